"""C2SP signed-note, tlog-checkpoint and tlog-cosignature: vectors, round trips, malformed input."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from errors import Error, InvalidKey, UnsupportedKeyType, WeakKey
from registry import merkle, note
from registry.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from registry.cosignature import (
    CosignatureVerifier,
    Cosigner,
    cosignature_message,
    verify_cosignatures,
)
from registry.errors import (
    CheckpointInvalid,
    NoteMalformed,
    NoteSignatureInvalid,
    NoteUnverified,
)

VECTORS = Path(__file__).parent.parent / "vectors"
TLOG = json.loads((VECTORS / "tlog-checkpoint.json").read_text())
TESSERA = TLOG["tessera_testdata_log"]
EXAMPLE = json.loads((VECTORS / "tlog" / "c2sp" / "signed-note-example.json").read_text())

LOG = note.Ed25519Signer.from_seed("example.com/log", hashlib.sha256(b"log").digest())
OTHER = note.Ed25519Signer.from_seed("example.com/other", hashlib.sha256(b"other").digest())
WITNESS = Cosigner.from_seed("witness.example/w1", hashlib.sha256(b"w1").digest())


# --- published vectors ---------------------------------------------------------------------------


def test_signed_note_spec_example() -> None:
    for vkey, signed in [
        (TLOG["signed_note_example"]["vkey"], TLOG["signed_note_example"]["note"]),
        (EXAMPLE["vkey"], EXAMPLE["signed_note"]),
    ]:
        verifier = note.Ed25519Verifier.from_vkey(vkey)
        assert verifier.vkey == vkey
        assert f"{verifier.key_id:08x}" == "530d903a"
        text, names = note.open_note(signed.encode(), [verifier])
        assert text == "This is an example message.\n"
        assert names == ("example.com/foo",)


@pytest.mark.parametrize("size", sorted(TESSERA["checkpoints_by_size"], key=int))
def test_tessera_checkpoints(size: str) -> None:
    verifier = note.Ed25519Verifier.from_vkey(TESSERA["vkey"])
    assert f"{verifier.key_id:08x}" == TESSERA["vkey"].split("+")[1]
    raw = TESSERA["checkpoints_by_size"][size].encode()
    signed = open_checkpoint(raw, [verifier], origin=TESSERA["origin"])
    cp = signed.checkpoint
    assert cp.size == int(size) and cp.origin == TESSERA["origin"] and cp.extensions == ()
    assert signed.signed_by == (TESSERA["origin"],)
    leaves = [merkle.leaf_hash(w.encode()) for w in TESSERA["leaves_ascii"][: cp.size]]
    assert cp.root_hash == merkle.root(leaves)
    # Our tile-based tree, fed the same leaves in two batches, reaches the same root.
    store = merkle.MemoryTileStore()
    store.apply(
        merkle.integrate_entries(
            store, store, 0, [w.encode() for w in TESSERA["leaves_ascii"][: cp.size // 2]]
        )
    )
    rest = [w.encode() for w in TESSERA["leaves_ascii"][cp.size // 2 : cp.size]]
    result = merkle.integrate_entries(store, store, store.size, rest)
    assert result.root == cp.root_hash
    # Byte-exact: re-serialising the parsed checkpoint gives the signed text back.
    assert raw.decode().startswith(cp.to_text() + "\n")


def test_tessera_checkpoints_are_mutually_consistent() -> None:
    verifier = note.Ed25519Verifier.from_vkey(TESSERA["vkey"])
    cps = {
        int(k): open_checkpoint(v.encode(), [verifier]).checkpoint
        for k, v in TESSERA["checkpoints_by_size"].items()
    }
    store = merkle.MemoryTileStore()
    store.apply(
        merkle.integrate_entries(store, store, 0, [w.encode() for w in TESSERA["leaves_ascii"]])
    )
    for n in range(1, 16):
        for m in range(1, n + 1):
            proof = merkle.tile_consistency_proof(store, m, n)
            merkle.verify_consistency(m, n, proof, cps[m].root_hash, cps[n].root_hash)


def test_checkpoint_spec_example_parses() -> None:
    ex = TLOG["tlog_checkpoint_spec_example"]
    text = ex["note"].split("\n\n")[0] + "\n"
    cp = Checkpoint.parse(text)
    assert cp.origin == ex["expected"]["origin"]
    assert cp.size == ex["expected"]["tree_size"]
    assert base64.b64encode(cp.root_hash).decode() == ex["expected"]["root_hash_b64"]
    assert cp.to_text() == text
    # No key was published for it: opening it with any other key finds no known signature.
    with pytest.raises(NoteUnverified):
        open_checkpoint(ex["note"].encode(), [LOG.verifier()])


# --- signed notes --------------------------------------------------------------------------------


def test_sign_and_open_round_trip() -> None:
    text = "hello\n\nworld\n"  # the text itself may contain blank lines
    signed = note.sign_note(text, [LOG, OTHER])
    assert note.open_note(signed, [LOG.verifier()]) == (text, ("example.com/log",))
    opened = note.open_note_detailed(signed, [OTHER.verifier(), LOG.verifier()])
    assert opened.verified_names == ("example.com/log", "example.com/other")
    assert opened.unverified == ()
    only_log = note.open_note_detailed(signed, [LOG.verifier()])
    assert [s.name for s in only_log.unverified] == ["example.com/other"]


@given(
    st.text(st.characters(min_codepoint=0x20, exclude_categories=("Cs",)), min_size=0).map(
        lambda s: s + "\n"
    )
)
def test_any_valid_text_round_trips(text: str) -> None:
    signed = note.sign_note(text, [LOG])
    assert note.open_note(signed, [LOG.verifier()])[0] == text


def test_unknown_signatures_are_ignored_but_known_bad_ones_refuse_the_note() -> None:
    text = "t\n"
    good = note.sign_note(text, [LOG])
    # Same name, other key ID: unknown, ignored.
    impostor = note.Ed25519Signer.from_seed("example.com/log", b"\x07" * 32)
    two = note.sign_note(text, [impostor, LOG])
    assert note.open_note(two, [LOG.verifier()])[1] == ("example.com/log",)
    # A known key whose signature fails: the whole note is refused.
    sig_line = good.decode().split("\n\n")[1]
    blob = base64.b64decode(sig_line.split(" ")[2])
    forged = blob[:4] + bytes(64)
    bad = f"{text}\n— example.com/log {base64.b64encode(forged).decode()}\n".encode()
    with pytest.raises(NoteSignatureInvalid):
        note.open_note(bad, [LOG.verifier()])
    short = blob[:4] + blob[4:20]
    with pytest.raises(NoteSignatureInvalid):
        note.open_note(
            f"{text}\n— example.com/log {base64.b64encode(short).decode()}\n".encode(),
            [LOG.verifier()],
        )
    with pytest.raises(NoteUnverified):
        note.open_note(good, [OTHER.verifier()])
    # Duplicate lines of one known key are checked once and counted once.
    dup = good + sig_line.encode()
    assert note.open_note(dup, [LOG.verifier()])[1] == ("example.com/log",)


def test_signature_count_is_bounded() -> None:
    text = "t\n"
    signers = [note.Ed25519Signer.from_seed(f"k{i}", bytes([i]) * 32) for i in range(17)]
    signed = note.sign_note(text, signers)
    assert note.open_note(signed, [signers[16].verifier()])[1] == ("k16",)  # >= 16 accepted
    with pytest.raises(NoteMalformed):
        note.open_note(signed, [signers[0].verifier()], max_signatures=16)
    with pytest.raises(NoteMalformed):
        note.open_note(signed, [signers[0].verifier()], max_bytes=100)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"text\n",
        b"text\n\n",
        b"text\n\n\xe2\x80\x94 example.com/log AAAA\n",  # signature too short
        b"text\n\n- example.com/log AAAAAAA=\n",  # hyphen, not em dash
        b"text\n\n\xe2\x80\x94example.com/log AAAAAAA=\n",
        b"text\n\n\xe2\x80\x94 example.com/log\n",
        b"text\n\n\xe2\x80\x94  AAAAAAA=\n",  # empty name
        b"text\n\n\xe2\x80\x94 a+b AAAAAAA=\n",  # '+' in name
        b"text\n\n\xe2\x80\x94 example.com/log AAAAAAA=",  # no final newline
        b"text\n\n\xe2\x80\x94 example.com/log AAAAAAA= \n",  # trailing space
        b"text\n\n\xe2\x80\x94 example.com/log AAAAAAA\n",  # unpadded
        b"text\n\n\xe2\x80\x94 example.com/log AAAAAAB=\n",  # non-canonical trailing bits
        b"text\n\n\xe2\x80\x94 example.com/log AAAA_AA=\n",  # URL-safe alphabet
        b"te\rxt\n\n\xe2\x80\x94 example.com/log AAAAAAA=\n",  # control character
        b"text\t\n\n\xe2\x80\x94 example.com/log AAAAAAA=\n",
        b"\xff\n\n\xe2\x80\x94 example.com/log AAAAAAA=\n",  # not UTF-8
        b"text\n\n\xe2\x80\x94 example.com/log AAAAAAA=\n\n",
        b"text\n\n\xe2\x80\x94 example.com/log AAAAAAA=\nnot a signature\n",
    ],
)
def test_malformed_notes_are_refused(raw: bytes) -> None:
    with pytest.raises(NoteMalformed):
        note.open_note(raw, [LOG.verifier()])


def test_sign_note_refuses_bad_text() -> None:
    for text in ["", "no newline", "bad\x00\n", "tab\t\n"]:
        with pytest.raises(NoteMalformed):
            note.sign_note(text, [LOG])
    with pytest.raises(Error):
        note.sign_note("t\n", [])


def test_append_signatures() -> None:
    signed = note.sign_note("t\n", [LOG])
    extra = note.sign_note("t\n", [OTHER]).split(b"\n\n")[1]
    combined = note.append_signatures(signed, extra)
    assert note.open_note(combined, [OTHER.verifier(), LOG.verifier()])[1] == (
        "example.com/log",
        "example.com/other",
    )
    for bad in [b"junk\n", b"\n" + extra, extra + b"\n"]:
        with pytest.raises(NoteMalformed):
            note.append_signatures(signed, bad)


# --- keys and vkeys ------------------------------------------------------------------------------


def test_vkey_round_trip_and_key_id() -> None:
    v = LOG.verifier()
    parsed = note.parse_vkey(v.vkey)
    assert (parsed.name, parsed.key_id, parsed.sig_type, parsed.key) == (
        "example.com/log",
        v.key_id,
        1,
        v.public_key,
    )
    expected = hashlib.sha256(b"example.com/log\n\x01" + v.public_key).digest()[:4]
    assert v.key_id == int.from_bytes(expected, "big")
    assert note.Ed25519Verifier.from_vkey(v.vkey) == v


def test_vkey_base64_may_contain_plus() -> None:
    # Find a key whose base64 has '+' so split('+', 2) is exercised.
    for i in range(200):
        s = note.Ed25519Signer.from_seed("n", hashlib.sha256(bytes([i])).digest())
        vkey = s.verifier().vkey
        if "+" in vkey.split("+", 2)[2]:
            assert note.Ed25519Verifier.from_vkey(vkey).public_key == s.public_key
            return
    pytest.fail("no key with '+' in its base64 found")


@pytest.mark.parametrize(
    "vkey",
    [
        "",
        "example.com/foo",
        "example.com/foo+530d903a",
        "+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  # wrong ID
        "example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  # uppercase
        "example.com/foo+530d903+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2",
        "example.com/foo+530d903a+",
        "exa mple.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
    ],
)
def test_bad_vkeys_are_refused(vkey: str) -> None:
    with pytest.raises(NoteMalformed):
        note.Ed25519Verifier.from_vkey(vkey)


def _add(p: tuple[int, int], q: tuple[int, int]) -> tuple[int, int]:
    # Twisted Edwards addition (a = -1), affine, for the test only.
    prime = 2**255 - 19
    d = -121665 * pow(121666, -1, prime) % prime
    (x1, y1), (x2, y2) = p, q
    t = d * x1 * x2 * y1 * y2 % prime
    x3 = (x1 * y2 + y1 * x2) * pow(1 + t, -1, prime) % prime
    y3 = (y1 * y2 + x1 * x2) * pow(1 - t, -1, prime) % prime
    return x3, y3


def _decode(enc: bytes) -> tuple[int, int]:
    prime = 2**255 - 19
    d = -121665 * pow(121666, -1, prime) % prime
    y = int.from_bytes(enc, "little") & ((1 << 255) - 1)
    x2 = (y * y - 1) * pow(d * y * y + 1, -1, prime) % prime
    x = pow(x2, (prime + 3) // 8, prime)
    if x * x % prime != x2:
        x = x * pow(2, (prime - 1) // 4, prime) % prime
    assert x * x % prime == x2
    if x & 1 != enc[31] >> 7:
        x = (prime - x) % prime
    return x, y


# The 8 points of order dividing 8, in their canonical encodings (RFC 8032 §5.1.2).
SMALL_ORDER = [bytes.fromhex(h) for h in (
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
)]


def test_small_order_and_non_canonical_keys_are_refused() -> None:
    for enc in SMALL_ORDER:
        point = _decode(enc)
        for _ in range(3):
            point = _add(point, point)
        assert point == (0, 1), enc.hex()  # 8·A = O: really small order
        with pytest.raises(WeakKey):
            note.Ed25519Verifier("n", enc)
        vkey = note.format_vkey("n", 1, enc)
        with pytest.raises(WeakKey):
            note.Ed25519Verifier.from_vkey(vkey)
    p = 2**255 - 19
    non_canonical = [
        (p).to_bytes(32, "little"),  # y = p ≡ 0
        (p + 1).to_bytes(32, "little"),  # y = p + 1 ≡ 1
        (1 | 1 << 255).to_bytes(32, "little"),  # x = 0 with the sign bit
        (p - 1 | 1 << 255).to_bytes(32, "little"),
        b"\xff" * 32,
    ]
    for enc in non_canonical:
        with pytest.raises(InvalidKey):
            note.check_ed25519_public_key(enc)
    off_curve = (2).to_bytes(32, "little")  # y = 2 has no x on edwards25519
    with pytest.raises(InvalidKey):
        note.check_ed25519_public_key(off_curve)
    with pytest.raises(InvalidKey):
        note.check_ed25519_public_key(b"\x01" * 31)
    note.check_ed25519_public_key(LOG.public_key)


def test_witness_vkey_is_not_a_log_vkey() -> None:
    with pytest.raises(UnsupportedKeyType):
        note.Ed25519Verifier.from_vkey(WITNESS.verifier().vkey)
    with pytest.raises(UnsupportedKeyType):
        CosignatureVerifier.from_vkey(LOG.verifier().vkey)


# --- checkpoints ---------------------------------------------------------------------------------


@given(
    origin=st.text(st.characters(min_codepoint=0x21, exclude_categories=("Cs",)), min_size=1),
    size=st.integers(0, 2**64 - 1),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(
        st.text(st.characters(min_codepoint=0x20, exclude_categories=("Cs",)), min_size=1),
        max_size=3,
    ),
)
def test_checkpoint_round_trip(origin: str, size: int, root: bytes, extensions: list[str]) -> None:
    cp = Checkpoint(origin, size, root, tuple(extensions))
    assert Checkpoint.parse(cp.to_text()) == cp
    signed = sign_checkpoint(cp, [LOG])
    assert open_checkpoint(signed, [LOG.verifier()], origin=origin).checkpoint == cp


ROOT_B64 = base64.b64encode(bytes(32)).decode()
URLSAFE_ROOT = base64.urlsafe_b64encode(bytes([0xFF]) * 32).decode()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "origin\n",
        "origin\n5\n",
        f"origin\n5\n{ROOT_B64}",  # no final newline
        f"\n5\n{ROOT_B64}\n",  # empty origin
        f"origin\n05\n{ROOT_B64}\n",  # leading zero
        f"origin\n-5\n{ROOT_B64}\n",
        f"origin\n+5\n{ROOT_B64}\n",
        f"origin\n 5\n{ROOT_B64}\n",
        f"origin\n5 \n{ROOT_B64}\n",
        f"origin\n٥\n{ROOT_B64}\n",  # non-ASCII digit
        f"origin\n18446744073709551616\n{ROOT_B64}\n",  # 2**64
        f"origin\n0x5\n{ROOT_B64}\n",
        "origin\n5\nAAAA\n",  # 3-byte root
        f"origin\n5\n{ROOT_B64[:-1]}\n",  # unpadded
        f"origin\n5\n{URLSAFE_ROOT}\n",
        f"origin\n5\n{ROOT_B64}\n\n",  # empty extension line
        f"origin\n5\n{ROOT_B64}\next\n\n",
        f"ori\rgin\n5\n{ROOT_B64}\n",
    ],
)
def test_malformed_checkpoints_are_refused(text: str) -> None:
    with pytest.raises(CheckpointInvalid):
        Checkpoint.parse(text)


def test_checkpoint_constructor_and_origin_binding() -> None:
    for args in [
        ("", 1, bytes(32)),
        ("o", -1, bytes(32)),
        ("o", 2**64, bytes(32)),
        ("o", 1, bytes(31)),
        ("o\n", 1, bytes(32)),
        ("o", True, bytes(32)),
    ]:
        with pytest.raises(CheckpointInvalid):
            Checkpoint(*args)  # type: ignore[arg-type]
    with pytest.raises(CheckpointInvalid):
        Checkpoint("o", 1, bytes(32), ("",))
    with pytest.raises(CheckpointInvalid):
        Checkpoint("o", 1, bytes(32), ["x"])  # type: ignore[arg-type]
    signed = sign_checkpoint(Checkpoint("example.com/log", 1, bytes(32)), [LOG])
    with pytest.raises(CheckpointInvalid):
        open_checkpoint(signed, [LOG.verifier()], origin="example.com/other-log")


# --- cosignatures --------------------------------------------------------------------------------


def test_cosignature_format() -> None:
    cp = Checkpoint("example.com/log", 5, bytes(range(32)))
    line = WITNESS.cosign(cp, 1_679_315_147)
    assert line.startswith("— witness.example/w1 ") and line.endswith("\n")
    blob = base64.b64decode(line.split(" ")[2])
    assert len(blob) == 4 + 8 + 64
    assert int.from_bytes(blob[:4], "big") == WITNESS.key_id
    assert int.from_bytes(blob[4:12], "big") == 1_679_315_147
    message = b"cosignature/v1\ntime 1679315147\n" + cp.to_text().encode()
    assert cosignature_message(cp.to_text(), 1_679_315_147) == message
    # The Ed25519 signature is over exactly that message, under the raw witness key.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    Ed25519PublicKey.from_public_bytes(WITNESS.public_key).verify(blob[12:], message)
    expected_id = hashlib.sha256(b"witness.example/w1\n\x04" + WITNESS.public_key).digest()[:4]
    assert WITNESS.key_id == int.from_bytes(expected_id, "big")
    assert WITNESS.verifier().vkey.split("+")[1] == expected_id.hex()
    assert base64.b64decode(WITNESS.verifier().vkey.split("+", 2)[2])[0] == 0x04


def test_cosignature_round_trip_and_tampering() -> None:
    cp = Checkpoint("example.com/log", 5, bytes(range(32)), ("ext line",))
    signed = sign_checkpoint(cp, [LOG])
    cosigned = note.append_signatures(signed, WITNESS.cosign(cp, 1000).encode())
    got_cp, cosigs = verify_cosignatures(cosigned, [WITNESS.verifier()])
    assert got_cp == cp
    assert [(c.name, c.key_id, c.timestamp) for c in cosigs] == [
        ("witness.example/w1", WITNESS.key_id, 1000)
    ]
    # The log signature still verifies alongside the cosignature.
    assert open_checkpoint(cosigned, [LOG.verifier()]).checkpoint == cp
    # Via the note Signer interface the same line comes out.
    assert note.sign_note(cp.to_text(), [WITNESS.at(1000)]).endswith(
        WITNESS.cosign(cp, 1000).encode()
    )
    # Changing the timestamp in the line breaks the signature.
    line = WITNESS.cosign(cp, 1000)
    blob = bytearray(base64.b64decode(line.split(" ")[2]))
    blob[11] ^= 1
    forged = f"— witness.example/w1 {base64.b64encode(bytes(blob)).decode()}\n"
    with pytest.raises(NoteSignatureInvalid):
        verify_cosignatures(note.append_signatures(signed, forged.encode()), [WITNESS.verifier()])
    # A plain Ed25519 note signature by the witness key is not a cosignature (different key ID).
    plain = note.Ed25519Signer("witness.example/w1", WITNESS.private_key)
    with pytest.raises(NoteUnverified):
        verify_cosignatures(note.sign_note(cp.to_text(), [plain]), [WITNESS.verifier()])
    # Nor does a cosignature check as a log signature.
    with pytest.raises(NoteUnverified):
        open_checkpoint(note.sign_note(cp.to_text(), [WITNESS.at(1)]), [LOG.verifier()])


def test_cosigner_refuses_bad_timestamps() -> None:
    for ts in [-1, 2**64, True, 1.5]:
        with pytest.raises(Error):
            WITNESS.at(ts)  # type: ignore[arg-type]
    assert WITNESS.at(2**64 - 1).sign(b"x\n")[:8] == b"\xff" * 8
