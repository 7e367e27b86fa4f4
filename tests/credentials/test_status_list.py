"""Status lists: IETF Token Status List and W3C Bitstring Status List vectors (both bit orders,
the 2^20-entry lists, the Status List Token signature, the index-50007 trap), bounded
decompression against bombs (security.md #14), strict indexes (#18), and the allocator."""

from __future__ import annotations

import json
import time
import tracemalloc
import zlib
from pathlib import Path
from typing import Any

import pytest

from credentials import sd_jwt
from credentials import status_list as sl
from credentials.errors import (
    InvalidCredential,
    InvalidStatusList,
    StatusIndexOutOfRange,
    StatusListFull,
    StatusListTooLarge,
    StatusListTooShort,
    TokenExpired,
    WrongTokenType,
)
from errors import InvalidInput, InvalidSignature
from identity.encoding import b64url_encode
from identity.keys import KeyType, PrivateKey, PublicKey

VECTORS = Path(__file__).parents[1] / "vectors"
TSL = json.loads((VECTORS / "tokenstatus-examples.json").read_text())
W3C = json.loads((VECTORS / "bitstring-status.json").read_text())
SDJWT = json.loads((VECTORS / "sdjwt-examples.json").read_text())
KEY = PrivateKey.from_private_bytes(KeyType.P256, bytes(31) + b"\x09")
MiB = 1024 * 1024


# --- IETF Token Status List vectors --------------------------------------------------------------


@pytest.mark.parametrize(
    "case", TSL["section_status_list_byte_array_examples"], ids=lambda c: f"{c['bits']}bit"
)
def test_tsl_section_4_1_examples_decode_and_encode(case: dict[str, Any]) -> None:
    decoded = sl.decode_token_status_list(case["json"])
    assert [decoded.get(i) for i in range(len(case["statuses"]))] == case["statuses"]
    assert decoded.to_bytes().hex() == case["byte_array_hex"]
    built = sl.StatusList(len(case["statuses"]), case["bits"])
    for index, status in enumerate(case["statuses"]):
        built.set(index, status)
    assert built.to_bytes().hex() == case["byte_array_hex"]
    assert zlib.compress(built.to_bytes(), 9).hex() == case["compressed_hex"]
    assert sl.encode_token_status_list(built) == case["json"]


@pytest.mark.parametrize(
    "case", TSL["appendix_test_vectors_2pow20"], ids=lambda c: f"{c['bits']}bit_2pow20"
)
def test_tsl_2pow20_vectors_decode_and_reencode_exactly(case: dict[str, Any]) -> None:
    decoded = sl.decode_token_status_list(case["encoded"])
    assert len(decoded) == case["size"] == 2**20
    expected = {int(k): v for k, v in case["set_statuses"].items()}
    for index, status in expected.items():
        assert decoded.get(index) == status
    assert dict(decoded.nonzero()) == {k: v for k, v in expected.items() if v}
    built = sl.StatusList(case["size"], case["bits"])
    for index, status in expected.items():
        built.set(index, status)
    assert sl.encode_token_status_list(built) == case["encoded"]


def test_tsl_status_list_token_vector_verifies() -> None:
    case = TSL["status_list_token_jwt"]
    key = PublicKey.from_jwk(case["verification_key_jwk"])
    token = sl.verify_status_list_token(
        case["compact"], key, expected_sub="https://example.com/statuslists/1", now=1_686_920_170
    )
    assert token.header == case["expected_header"]
    assert token.claims["ttl"] == 43200
    expected = TSL["section_status_list_byte_array_examples"][0]["statuses"]
    assert [token.status_list.get(i) for i in range(16)] == expected


def test_tsl_status_list_token_vector_checks_sub_exp_and_key() -> None:
    case = TSL["status_list_token_jwt"]
    key = PublicKey.from_jwk(case["verification_key_jwk"])
    with pytest.raises(WrongTokenType):
        sl.verify_status_list_token(
            case["compact"], key, expected_sub="https://example.com/statuslists/2", now=0
        )
    with pytest.raises(TokenExpired):
        sl.verify_status_list_token(
            case["compact"], key, expected_sub="https://example.com/statuslists/1", now=2**32
        )
    with pytest.raises(InvalidSignature):
        sl.verify_status_list_token(
            case["compact"],
            KEY.public_key,
            expected_sub="https://example.com/statuslists/1",
            now=0,
        )


def test_tsl_referenced_token_points_into_the_list() -> None:
    case = TSL["referenced_token_sd_jwt"]
    issuer = PublicKey.from_jwk(SDJWT["issuer_public_key_rfc9901_A5"])
    claims = sd_jwt.verify(
        case["compact"],
        lambda h, c: issuer,
        expected_typ="example+sd-jwt",
        now=1_700_000_000,
        require_kb=False,
    ).claims
    uri, idx = sl.status_reference(claims)
    token = TSL["status_list_token_jwt"]
    verified = sl.verify_status_list_token(
        token["compact"],
        PublicKey.from_jwk(token["verification_key_jwk"]),
        expected_sub=uri,
        now=1_686_920_170,
    )
    assert verified.status_list.get(idx) == sl.TokenStatus.INVALID


def test_tsl_token_round_trip_with_two_bit_statuses() -> None:
    statuses = sl.StatusList(sl.MIN_BITSTRING_ENTRIES, bits=2)
    statuses.set(7, sl.TokenStatus.SUSPENDED)
    statuses.set(131_071, sl.TokenStatus.INVALID)
    token = sl.build_status_list_token(
        statuses,
        KEY,
        sub="https://issuer.example/status/1",
        iat=100,
        exp=200,
        ttl=60,
        header={"kid": "did:web:issuer.example#k1"},
        claims={"iss": "did:web:issuer.example"},
    )
    verified = sl.verify_status_list_token(
        token, KEY.public_key, expected_sub="https://issuer.example/status/1", now=150
    )
    assert dict(verified.status_list.nonzero()) == {7: 2, 131_071: 1}
    assert verified.claims["iss"] == "did:web:issuer.example"


@pytest.mark.parametrize(
    "claim",
    [
        {"bits": 3, "lst": "eNrbuRgAAhcBXQ"},
        {"bits": True, "lst": "eNrbuRgAAhcBXQ"},
        {"bits": 1, "lst": "eNrbuRgAAhcBXQ=="},
        {"bits": 1, "lst": 5},
        {"bits": 1},
        {"bits": 1, "lst": b64url_encode(b"not zlib")},
        {"bits": 1, "lst": b64url_encode(zlib.compress(b"\x01" * 10)[:-3])},
        {"bits": 1, "lst": b64url_encode(zlib.compress(b"\x01") + b"junk")},
        {"bits": 1, "lst": b64url_encode(zlib.compress(b""))},
        [],
    ],
    ids=[
        "bits_3",
        "bits_bool",
        "padded",
        "lst_number",
        "lst_missing",
        "not_zlib",
        "truncated",
        "trailing_data",
        "empty",
        "not_object",
    ],
)
def test_tsl_malformed_status_list_refused(claim: Any) -> None:
    with pytest.raises(InvalidStatusList):
        sl.decode_token_status_list(claim)


def test_tsl_gzip_is_not_zlib() -> None:
    gz = zlib.compressobj(9, zlib.DEFLATED, 31)
    data = gz.compress(b"\x01" * 16) + gz.flush()
    with pytest.raises(InvalidStatusList):
        sl.decode_token_status_list({"bits": 1, "lst": b64url_encode(data)})


@pytest.mark.parametrize("idx", [-1, 16, 2**64, True, "0", 1.0])
def test_tsl_out_of_range_or_non_integer_index_refused(idx: Any) -> None:
    decoded = sl.decode_token_status_list({"bits": 1, "lst": "eNrbuRgAAhcBXQ"})
    with pytest.raises(InvalidStatusList):
        decoded.get(idx)
    if isinstance(idx, int) and not isinstance(idx, bool):
        with pytest.raises(StatusIndexOutOfRange):
            decoded.get(idx)


@pytest.mark.parametrize(
    "status",
    [
        {"status_list": {"idx": -1, "uri": "https://x"}},
        {"status_list": {"idx": True, "uri": "u"}},
        {"status_list": {"idx": "3", "uri": "u"}},
        {"status_list": {"idx": 3}},
        {},
        None,
    ],
    ids=["negative", "bool", "string", "no_uri", "no_status_list", "no_status"],
)
def test_tsl_malformed_reference_refused(status: Any) -> None:
    with pytest.raises(InvalidStatusList):
        sl.status_reference({"status": status})


# --- W3C Bitstring Status List vectors -----------------------------------------------------------


def test_w3c_spec_example_credential_is_131072_zero_bits() -> None:
    credential = W3C["spec_examples"]["status_list_credential"]
    decoded = sl.parse_bitstring_status_list_credential(credential, expected_purpose="revocation")
    assert len(decoded) == W3C["spec_examples"]["status_list_credential_decoded"]["entries"]
    assert list(decoded.nonzero()) == []


def test_w3c_spec_example_entries_parse() -> None:
    entries = W3C["spec_examples"]["status_entry_credential"]["credentialStatus"]
    parsed = [sl.parse_status_entry(e) for e in entries]
    assert {p.purpose for p in parsed} == {e["statusPurpose"] for e in entries}
    assert [p.index for p in parsed] == [int(e["statusListIndex"]) for e in entries]


@pytest.mark.parametrize("name", ["encodedList100k", "encodedList100KWith50KthRevoked"])
def test_w3c_library_vectors(name: str) -> None:
    case = W3C["library_vectors"][name]
    decoded = sl.decode_bitstring(case["encodedList"], min_entries=0)
    assert len(decoded) == case["entries"]
    assert [i for i, _ in decoded.nonzero()] == case["set_indices"]


def test_w3c_library_vectors_are_below_the_minimum_length() -> None:
    case = W3C["library_vectors"]["encodedList100KWith50KthRevoked"]
    with pytest.raises(StatusListTooShort):
        sl.decode_bitstring(case["encodedList"])


def test_w3c_bit_order_trap_decodes_to_index_50007() -> None:
    case = W3C["library_vectors"]["trap_mock_sl_credentials_encodedList100KWith50KthRevoked"]
    decoded = sl.decode_bitstring(case["encodedList"], min_entries=0)
    assert [i for i, _ in decoded.nonzero()] == case["set_indices_when_decoded_per_spec"] == [50007]
    assert decoded.get(50000) == 0


def test_w3c_eight_bit_example_is_msb_first() -> None:
    msb = W3C["library_vectors"]["bitstring_8_bits_1_and_4_leftToRight"]
    decoded = sl.decode_bitstring("u" + msb["gzip_base64url_no_multibase"], min_entries=0)
    assert [i for i, _ in decoded.nonzero()] == msb["set_indices"] == [1, 4]
    assert decoded.to_bytes() == bytes([int(msb["byte"], 2)])
    lsb = W3C["library_vectors"]["bitstring_8_bits_1_and_4_rightToLeft_legacy"]
    legacy = sl.decode_bitstring("u" + lsb["gzip_base64url_no_multibase"], min_entries=0)
    assert [i for i, _ in legacy.nonzero()] == [3, 6]  # the same bits read in the W3C order


def test_w3c_round_trip_and_ietf_order_differ() -> None:
    w3c = sl.StatusList(sl.MIN_BITSTRING_ENTRIES, order=sl.BitOrder.MSB)
    w3c.set(0, 1)
    assert w3c.to_bytes()[0] == 0x80
    ietf = sl.StatusList(sl.MIN_BITSTRING_ENTRIES)
    ietf.set(0, 1)
    assert ietf.to_bytes()[0] == 0x01
    assert sl.decode_bitstring(sl.encode_bitstring(w3c)).get(0) == 1
    with pytest.raises(InvalidInput):
        sl.encode_bitstring(ietf)
    with pytest.raises(InvalidInput):
        sl.encode_token_status_list(w3c)


def test_w3c_multibit_status_is_read_msb_first() -> None:
    statuses = sl.StatusList(sl.MIN_BITSTRING_ENTRIES, bits=2, order=sl.BitOrder.MSB)
    statuses.set(1, 0b01)
    assert statuses.to_bytes()[0] == 0b0001_0000
    decoded = sl.decode_bitstring(sl.encode_bitstring(statuses), status_size=2)
    assert decoded.get(1) == 1 and len(decoded) == sl.MIN_BITSTRING_ENTRIES


def test_w3c_credential_round_trip_and_purpose_check() -> None:
    statuses = sl.StatusList(sl.MIN_BITSTRING_ENTRIES, order=sl.BitOrder.MSB)
    statuses.set(99, 1)
    credential = sl.bitstring_status_list_credential(
        id="https://issuer.example/status/3",
        issuer="did:web:issuer.example",
        purpose="revocation",
        status_list=statuses,
        valid_from="2025-01-01T00:00:00Z",
    )
    assert credential["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    parsed = sl.parse_bitstring_status_list_credential(credential, expected_purpose="revocation")
    assert list(parsed.nonzero()) == [(99, 1)]
    with pytest.raises(InvalidStatusList):
        sl.parse_bitstring_status_list_credential(credential, expected_purpose="suspension")
    with pytest.raises(InvalidCredential):
        sl.parse_bitstring_status_list_credential(
            {**credential, "type": ["VerifiableCredential"]}, expected_purpose="revocation"
        )


def test_w3c_short_list_cannot_be_published() -> None:
    with pytest.raises(InvalidInput):
        sl.bitstring_status_list_credential(
            id="x",
            issuer="y",
            purpose="revocation",
            status_list=sl.StatusList(1024, order=sl.BitOrder.MSB),
        )


@pytest.mark.parametrize(
    "encoded",
    [
        "H4sIAAAAAAAAA_MAAC8mBaoBAAAA",
        "zH4sIAAAAAAAAA_MAAC8mBaoBAAAA",
        "uH4sIAAAAAAAAA_MAAC8mBaoBAAAA=",
        "u" + b64url_encode(zlib.compress(bytes(16384))),
        None,
    ],
    ids=["no_multibase_prefix", "base58_prefix", "padded", "zlib_not_gzip", "not_a_string"],
)
def test_w3c_malformed_encoded_list_refused(encoded: Any) -> None:
    with pytest.raises(InvalidStatusList):
        sl.decode_bitstring(encoded, min_entries=0)


def test_w3c_second_gzip_member_refused() -> None:
    def gz(data: bytes) -> bytes:
        compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
        return compressor.compress(data) + compressor.flush()

    encoded = "u" + b64url_encode(gz(bytes(16384)) + gz(b"\xff" * 16))
    with pytest.raises(InvalidStatusList):
        sl.decode_bitstring(encoded)


# --- strict statusListIndex (security.md #18) ----------------------------------------------------

ENTRY = {
    "type": "BitstringStatusListEntry",
    "statusPurpose": "revocation",
    "statusListIndex": "94567",
    "statusListCredential": "https://issuer.example/status/3",
}


@pytest.mark.parametrize(
    "index",
    [
        "4_2",
        " 42",
        "42 ",
        "+42",
        "-1",
        "٤٢",
        "４２",
        "042",
        "00",
        "",
        "0x2a",
        "1e3",
        "4.0",
        "9" * 17,
        42,
        None,
    ],
)
def test_w3c_status_index_parser_differentials_refused(index: Any) -> None:
    with pytest.raises(InvalidStatusList):
        sl.parse_status_entry({**ENTRY, "statusListIndex": index})


def test_w3c_status_entry_round_trip() -> None:
    entry = sl.status_entry(
        purpose="revocation",
        index=94567,
        list_credential=ENTRY["statusListCredential"],
        id="https://issuer.example/status/3#94567",
    )
    assert sl.parse_status_entry(entry) == sl.StatusEntry(
        "revocation", 94567, ENTRY["statusListCredential"], 1, entry["id"]
    )
    assert sl.parse_status_entry({**ENTRY, "statusListIndex": "0"}).index == 0


@pytest.mark.parametrize(
    "change",
    [
        {"type": "StatusList2021Entry"},
        {"statusPurpose": 1},
        {"statusListCredential": None},
        {"statusSize": 3},
        {"statusSize": 2},
        {"statusSize": True},
    ],
    ids=[
        "wrong_type",
        "purpose_number",
        "no_credential",
        "size_3",
        "size_2_no_messages",
        "size_bool",
    ],
)
def test_w3c_malformed_status_entry_refused(change: dict[str, Any]) -> None:
    with pytest.raises(InvalidStatusList):
        sl.parse_status_entry({**ENTRY, **change})


# --- compression bombs (security.md #14, G5) -----------------------------------------------------


def _bomb(wbits: int, size: int) -> bytes:
    compressor = zlib.compressobj(1, zlib.DEFLATED, wbits)
    chunk = bytes(MiB)
    parts = [compressor.compress(chunk) for _ in range(size // MiB)]
    return b"".join(parts) + compressor.flush()


@pytest.fixture(scope="module")
def zlib_bomb() -> bytes:
    return _bomb(15, 256 * MiB)


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    return _bomb(31, 256 * MiB)


def _refused_fast_and_small(call: Any) -> None:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(StatusListTooLarge):
            call()
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 2.0
    assert peak < 3 * sl.MAX_STATUS_LIST_BYTES


def test_statuslist_ietf_zlib_bomb_256mib_refused(zlib_bomb: bytes) -> None:
    claim = {"bits": 1, "lst": b64url_encode(zlib_bomb)}
    _refused_fast_and_small(lambda: sl.decode_token_status_list(claim))


def test_statuslist_gzip_bomb_256mib_refused(gzip_bomb: bytes) -> None:
    encoded = "u" + b64url_encode(gzip_bomb)
    _refused_fast_and_small(lambda: sl.decode_bitstring(encoded))


def test_statuslist_bomb_inside_a_signed_token_refused(zlib_bomb: bytes) -> None:
    body = {
        "sub": "https://x/1",
        "iat": 1,
        "status_list": {"bits": 1, "lst": b64url_encode(zlib_bomb)},
    }
    from credentials import jose

    token = jose.sign_compact({"typ": "statuslist+jwt"}, body, KEY)
    _refused_fast_and_small(
        lambda: sl.verify_status_list_token(
            token, KEY.public_key, expected_sub="https://x/1", now=1
        )
    )


def test_statuslist_limit_is_a_parameter() -> None:
    claim = {"bits": 1, "lst": b64url_encode(zlib.compress(bytes(4096)))}
    assert len(sl.decode_token_status_list(claim, max_bytes=4096)) == 4096 * 8
    with pytest.raises(StatusListTooLarge):
        sl.decode_token_status_list(claim, max_bytes=4095)


def test_statuslist_huge_compressed_input_refused_before_decoding() -> None:
    with pytest.raises(StatusListTooLarge):
        sl.decode_token_status_list({"bits": 1, "lst": "A" * (6 * MiB)})


# --- StatusList and the allocator ----------------------------------------------------------------


def test_status_values_must_fit_their_width() -> None:
    statuses = sl.StatusList(8, bits=2)
    with pytest.raises(InvalidInput):
        statuses.set(0, 4)
    with pytest.raises(InvalidInput):
        statuses.set(0, True)
    with pytest.raises(InvalidInput):
        sl.StatusList(8, bits=3)
    with pytest.raises(InvalidInput):
        sl.StatusList(0)


def test_allocator_refuses_a_full_list() -> None:
    with pytest.raises(StatusListFull):
        sl.allocate_index(4, {0, 1, 2, 3})


def test_allocator_finds_the_last_free_index_when_sampling_keeps_missing() -> None:
    used = set(range(1000)) - {617}
    assert sl.allocate_index(1000, used, randbelow=lambda n: 0) == 617


def test_allocator_fallback_is_uniform_over_free_indexes() -> None:
    used = {0, 2, 4}
    picks = {
        sl.allocate_index(6, used, randbelow=lambda n, k=k: k % n, attempts=0) for k in range(3)
    }
    assert picks == {1, 3, 5}
