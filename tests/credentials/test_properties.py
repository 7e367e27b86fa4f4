"""Hypothesis properties: disclosures round-trip; issue -> present -> verify yields exactly the
disclosed claims plus the always-visible ones, for any subset; any tampering is refused with a
project error; status lists behave like a plain map in both bit orders and survive encoding; the
allocator never hands out an index twice."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from credentials import jose, sd_jwt
from credentials import status_list as sl
from credentials.errors import StatusListFull
from credentials.sd_jwt import SD, Disclosure
from errors import Error
from identity.keys import KeyType, PrivateKey

ISSUER = PrivateKey.from_private_bytes(KeyType.ED25519, bytes(range(32)))
HOLDER = PrivateKey.from_private_bytes(KeyType.P256, bytes(31) + b"\x03")
NOW = 1_750_000_000

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
# Claim names SD-JWT reserves (RFC 9901 §4.1, §4.2): refused anywhere in a payload.
RESERVED = ("_sd", "...", "_sd_alg")
member_names = st.text(max_size=8).filter(lambda n: n not in RESERVED)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(member_names, children, max_size=4)
    ),
    max_leaves=12,
)
# Top-level claim names the SD-JWT VC issuer and verifier give a meaning (JWT registered claims,
# SD-JWT VC members): a random claim by that name is not "any claim".
REGISTERED = ("iss", "sub", "aud", "exp", "nbf", "iat", "jti", "cnf", "vct", "vct#integrity",
              "status", "_sd_alg")
names = st.text(min_size=1, max_size=12).filter(lambda n: n not in RESERVED + REGISTERED)


@settings(deadline=None)
@given(salt=st.text(min_size=1, max_size=30), name=st.none() | names, value=json_values)
def test_disclosure_round_trip(salt: str, name: str | None, value: Any) -> None:
    created = Disclosure.create(salt, name, value)
    parsed = Disclosure.parse(created.encoded)
    assert (parsed.salt, parsed.name, parsed.value) == (salt, name, value)
    assert parsed.digest() == created.digest()


@st.composite
def credentials(draw: st.DrawFn) -> tuple[dict[Any, Any], dict[str, Any], list[tuple[Any, ...]]]:
    """(claims with SD markers, expected processed claims for the chosen subset, chosen paths)."""
    plain = draw(st.dictionaries(names, json_values, max_size=4))
    hidden = draw(st.dictionaries(names, json_values, max_size=5))
    assume(not set(plain) & set(hidden) and "cnf" not in plain and "cnf" not in hidden)
    elements = draw(st.lists(st.tuples(st.booleans(), json_values), max_size=5))
    claims: dict[Any, Any] = dict(plain)
    claims.update({SD(k): v for k, v in hidden.items()})
    claims["items"] = [SD(v) if is_hidden else v for is_hidden, v in elements]
    chosen_names = draw(st.sets(st.sampled_from(sorted(hidden))) if hidden else st.just(set()))
    chosen_items = draw(
        st.sets(st.sampled_from(range(len(elements)))) if elements else st.just(set())
    )
    expected = dict(plain)
    expected.update({k: hidden[k] for k in chosen_names})
    expected["items"] = [
        v for i, (is_hidden, v) in enumerate(elements) if not is_hidden or i in chosen_items
    ]
    paths = [(k,) for k in chosen_names] + [("items", i) for i in chosen_items]
    return claims, expected, paths


@settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.filter_too_much])
@given(case=credentials(), decoys=st.integers(min_value=0, max_value=3))
def test_issue_present_verify_yields_exactly_the_disclosed_claims(
    case: tuple[dict[Any, Any], dict[str, Any], list[tuple[Any, ...]]], decoys: int
) -> None:
    claims, expected, paths = case
    issued = sd_jwt.issue(
        claims, ISSUER, header={"typ": "t"}, holder_key=HOLDER.public_key, decoys=(0, decoys)
    )
    shown = sd_jwt.present(issued, disclose=paths, kb_key=HOLDER, nonce="n", aud="a", iat=NOW)
    result = sd_jwt.verify(
        shown,
        lambda h, c: ISSUER.public_key,
        expected_typ="t",
        now=NOW,
        expected_nonce="n",
        expected_aud="a",
    )
    assert result.claims == {**expected, "cnf": {"jwk": HOLDER.public_key.to_jwk()}}


@settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.filter_too_much])
@given(case=credentials(), data=st.data())
def test_dropping_or_altering_a_disclosure_is_refused(
    case: tuple[dict[Any, Any], dict[str, Any], list[tuple[Any, ...]]], data: st.DataObject
) -> None:
    claims, _, _ = case
    issued = sd_jwt.issue(claims, ISSUER, header={"typ": "t"}, holder_key=HOLDER.public_key)
    shown = sd_jwt.present(issued, disclose=sd_jwt.ALL, kb_key=HOLDER, nonce="n", aud="a", iat=NOW)
    parsed = sd_jwt.parse(shown)
    assume(parsed.disclosures)
    index = data.draw(st.integers(min_value=0, max_value=len(parsed.disclosures) - 1))
    original = Disclosure.parse(parsed.disclosures[index])
    altered = Disclosure.create(original.salt + "x", original.name, original.value).encoded
    for disclosures in (
        parsed.disclosures[:index] + parsed.disclosures[index + 1 :],
        (*parsed.disclosures[:index], altered, *parsed.disclosures[index + 1 :]),
    ):
        tampered = "~".join((parsed.issuer_jwt, *disclosures, parsed.kb_jwt or ""))
        with pytest.raises(Error):
            sd_jwt.verify(
                tampered,
                lambda h, c: ISSUER.public_key,
                expected_typ="t",
                now=NOW,
                expected_nonce="n",
                expected_aud="a",
            )


_SHOWN = sd_jwt.present(
    sd_jwt.issue(
        {"iss": "i", SD("a"): {SD("b"): [SD(1), 2]}, "l": [SD("x")]},
        ISSUER,
        header={"typ": "t"},
        holder_key=HOLDER.public_key,
    ),
    disclose=sd_jwt.ALL,
    kb_key=HOLDER,
    nonce="n",
    aud="a",
    iat=NOW,
)


@settings(deadline=None, max_examples=200)
@given(position=st.integers(min_value=0, max_value=len(_SHOWN) - 1), char=st.characters())
def test_any_character_change_is_refused_with_a_project_error(position: int, char: str) -> None:
    assume(_SHOWN[position] != char)
    mutated = _SHOWN[:position] + char + _SHOWN[position + 1 :]
    with pytest.raises(Error):
        sd_jwt.verify(
            mutated,
            lambda h, c: ISSUER.public_key,
            expected_typ="t",
            now=NOW,
            expected_nonce="n",
            expected_aud="a",
        )


@settings(deadline=None)
@given(claims=st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_jws_round_trip(claims: dict[str, Any]) -> None:
    token = jose.sign_compact({"typ": "x+jwt"}, claims, HOLDER)
    assert jose.verify_compact(token, HOLDER.public_key, expected_typ="x+jwt")[1] == claims


@settings(deadline=None, max_examples=50)
@given(
    bits=st.sampled_from([1, 2, 4, 8]),
    order=st.sampled_from(list(sl.BitOrder)),
    size=st.integers(min_value=1, max_value=3000),
    data=st.data(),
)
def test_status_list_set_get_encode_decode(
    bits: int, order: sl.BitOrder, size: int, data: st.DataObject
) -> None:
    statuses = sl.StatusList(size, bits, order)
    model: dict[int, int] = {}
    writes = data.draw(
        st.lists(st.tuples(st.integers(0, size - 1), st.integers(0, (1 << bits) - 1)), max_size=40)
    )
    for index, value in writes:
        statuses.set(index, value)
        model[index] = value
    for index in range(size):
        assert statuses.get(index) == model.get(index, 0)
    expected = {i: v for i, v in sorted(model.items()) if v}
    assert dict(statuses.nonzero()) == expected
    if order is sl.BitOrder.LSB:
        decoded = sl.decode_token_status_list(sl.encode_token_status_list(statuses))
    else:
        decoded = sl.decode_bitstring(
            sl.encode_bitstring(statuses), status_size=bits, min_entries=0
        )
    # Decoding restores whole bytes: the padding statuses of the last byte read as 0.
    assert len(decoded) >= size
    assert dict(decoded.nonzero()) == expected


@settings(deadline=None, max_examples=50)
@given(
    size=st.integers(min_value=1, max_value=300),
    rnd=st.randoms(use_true_random=False),
    used=st.sets(st.integers(0, 299), max_size=100),
)
def test_allocator_never_reuses_an_index(size: int, rnd: random.Random, used: set[int]) -> None:
    taken = {i for i in used if i < size}
    while len(taken) < size:
        index = sl.allocate_index(size, taken, randbelow=rnd.randrange, attempts=rnd.randint(0, 8))
        assert 0 <= index < size and index not in taken
        taken.add(index)
    assert taken == set(range(size))
    with pytest.raises(StatusListFull):
        sl.allocate_index(size, taken, randbelow=rnd.randrange)


# --- issuance fast paths -----------------------------------------------------------------------


@given(st.lists(st.binary(min_size=32, max_size=32), max_size=20))
def test_digests_encoded_together_are_each_digests_base64url(digests: list[bytes]) -> None:
    from identity.encoding import b64url_encode

    assert sd_jwt._digests_b64(digests) == [b64url_encode(d) for d in digests]
    assert sd_jwt._digest_texts(digests) == [b64url_encode(d).encode() for d in digests]


@settings(deadline=None)
@given(st.integers(min_value=1, max_value=70))
def test_salts_are_the_base64url_of_fresh_16_byte_draws(count: int) -> None:
    # Salts are made sixteen at a time; each must be the base64url of its own 16 bytes, and no
    # byte of randomness may serve twice.
    import secrets

    from identity.encoding import b64url_encode

    drawn: list[bytes] = []

    def randbytes(n: int) -> bytes:
        drawn.append(secrets.token_bytes(n))
        return drawn[-1]

    issued = sd_jwt.issue({SD(f"c{i}"): i for i in range(count)}, ISSUER, randbytes=randbytes)
    salts = [Disclosure.parse(d).salt for d in issued.split("~")[1:-1]]
    stream = b"".join(drawn)
    chunks = {b64url_encode(stream[i : i + 16]) for i in range(0, len(stream) - 15, 16)}
    assert len(set(salts)) == count
    assert set(salts) <= chunks
    assert all(len(s) == 22 for s in salts)


# Claim trees whose names include the reserved and never-disclosable ones, with markers anywhere:
# issue_sd_jwt_vc must refuse exactly the trees the rules below refuse, with their error class.
_TREE_NAMES = st.sampled_from(["a", "b", "_sd", "...", "_sd_alg", "iss", "status", "cnf", "exp"])
_tree_keys = _TREE_NAMES | _TREE_NAMES.map(SD)
_tree_values = st.recursive(
    st.none() | st.integers(min_value=0, max_value=9) | st.text(max_size=3),
    lambda children: (
        st.lists(children | children.map(SD), max_size=3)
        | st.dictionaries(_tree_keys, children, max_size=3)
        | children.map(SD)  # a marker where none may be
    ),
    max_leaves=8,
)


def _faults(node: Any, top: bool) -> set[type[Exception]]:
    """The error classes the rules give for ``node`` (SD-JWT VC claims when ``top``)."""
    from credentials.errors import InvalidCredential
    from errors import InvalidInput

    found: set[type[Exception]] = set()
    if isinstance(node, SD):
        return {InvalidInput}  # a marker as a value
    if isinstance(node, list):
        for item in node:
            found |= _faults(item.value if isinstance(item, SD) else item, False)
        return found
    if not isinstance(node, dict):
        return found
    names = [k.value if isinstance(k, SD) else k for k in node]
    if len(set(names)) != len(names):
        found.add(InvalidInput)  # hidden and plain at once
    for key, value in node.items():
        hidden = isinstance(key, SD)
        name = key.value if hidden else key
        if top and hidden and name in sd_jwt.NEVER_DISCLOSABLE_VC_CLAIMS:
            found.add(InvalidCredential)
        protected = top and name in sd_jwt.NEVER_DISCLOSABLE_VC_CLAIMS
        if protected and not hidden and sd_jwt._has_marker(value):
            found.add(InvalidCredential)
        if name in ("_sd", "...") or (name == "_sd_alg" and (not top or not hidden)):
            found.add(InvalidInput)  # a plain top-level _sd_alg is refused as "set by issue()"
        found |= _faults(value, False)
    return found


@settings(deadline=None, max_examples=400)
@given(st.dictionaries(_tree_keys, _tree_values, max_size=5), st.booleans())
def test_issuance_refuses_exactly_what_the_rules_refuse(tree: dict[Any, Any], bind: bool) -> None:
    claims = {"iss": "did:web:x", "vct": "urn:t", **tree}
    faults = _faults(claims, True)
    holder = HOLDER.public_key if bind else None
    if bind and ("cnf" in claims or SD("cnf") in claims):
        from errors import InvalidInput

        faults.add(InvalidInput)
    required_ok = all(isinstance(claims.get(n), str) and claims[n] for n in ("iss", "vct"))
    if not required_ok:
        from credentials.errors import InvalidCredential

        faults.add(InvalidCredential)
    try:
        sd_jwt.issue_sd_jwt_vc(claims, ISSUER, holder_key=holder, decoys=(0, 2))
    except Error as exc:
        assert faults, f"refused {exc!r}, which the rules accept"
        assert type(exc) in faults, (exc, faults)
        marked = [
            n
            for n in sd_jwt.NEVER_DISCLOSABLE_VC_CLAIMS
            if n in claims and sd_jwt._has_marker(claims[n])
        ]
        if marked:  # reported first, whatever else is wrong
            assert "must not be selectively disclosable" in str(exc)
    else:
        assert not faults, f"accepted, though the rules give {faults}"


@given(st.binary(max_size=200))
def test_base64url_writers_agree_with_the_encoding_module(data: bytes) -> None:
    from identity.encoding import b64url_encode

    assert sd_jwt._b64(data).decode("ascii") == b64url_encode(data)
    assert jose._b64(data).decode("ascii") == b64url_encode(data)


@given(json_values | st.text() | st.floats(allow_nan=False, allow_infinity=False))
def test_compact_json_is_what_json_dumps_writes(value: Any) -> None:
    import json

    from credentials import _json

    expected = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    assert _json.compact(value) == expected
    assert _json._ENCODER.encode(value) == expected


@pytest.mark.parametrize("bad", [float("nan"), {"a": [float("inf")]}, {"a": {1, 2}}, b"x"])
def test_compact_json_refuses_what_json_dumps_refuses(bad: Any) -> None:
    from credentials import _json
    from credentials.errors import MalformedToken

    with pytest.raises((TypeError, ValueError)):
        _json.compact(bad)
    with pytest.raises(MalformedToken):
        _json.dumps(bad, error=MalformedToken, what="x")


def test_compact_json_refuses_circular_values_and_stays_usable() -> None:
    from credentials import _json
    from credentials.errors import MalformedToken

    loop: dict[str, Any] = {}
    loop["self"] = loop
    for _ in range(2):  # a failed call leaves nothing behind
        with pytest.raises(MalformedToken):
            _json.dumps({"a": loop}, error=MalformedToken, what="x")
    assert _json.dumps({"a": [1]}, error=MalformedToken, what="x") == b'{"a":[1]}'


@settings(deadline=None)
@given(
    st.dictionaries(
        st.text(max_size=6).filter(lambda n: n not in RESERVED),
        st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.floats(),
        min_size=1,
        max_size=6,
    )
)
def test_disclosures_written_inline_are_what_disclosure_create_writes(
    values: dict[str, Any],
) -> None:
    # Scalar values of hidden claims are disclosed inline in the walk, with salts made ahead;
    # every disclosure must be exactly what Disclosure.create writes for its salt, name and value,
    # and whatever create refuses, issuance refuses with the same error class.
    claims = {SD(name): value for name, value in values.items()}
    try:
        expected = [Disclosure.create("s", name, value) for name, value in values.items()]
    except Error as exc:
        with pytest.raises(type(exc)):
            sd_jwt.issue(claims, ISSUER)
        return
    issued = sd_jwt.issue(claims, ISSUER)
    written = [Disclosure.parse(d) for d in issued.split("~")[1:-1]]
    assert [d.name for d in written] == [d.name for d in expected]
    for made in written:
        assert made.encoded == Disclosure.create(made.salt, made.name, values[made.name]).encoded


@pytest.mark.parametrize("kind", ["lone surrogate", "huge int", "nan"])
def test_unserialisable_scalar_values_are_refused_inline_too(kind: str) -> None:
    from errors import InvalidInput

    value = {"lone surrogate": "\ud800", "huge int": 10**5000, "nan": float("nan")}[kind]
    with pytest.raises(InvalidInput, match="disclosure cannot be serialised"):
        sd_jwt.issue({SD("a"): 1, SD("b"): value}, ISSUER)


_mixed_values = st.none() | st.booleans() | st.integers() | st.text(max_size=6) | st.floats()
_mixed_keys = st.sampled_from(["a", "b", "c", "d", "e"])


@st.composite
def _mixed_claims(draw: st.DrawFn, depth: int = 0) -> dict[Any, Any]:
    """Objects mixing hidden scalars (disclosed inline, encoded in batches), hidden objects and
    arrays (disclosed one by one) and plain objects with hidden parts, in any order."""
    claims: dict[Any, Any] = {}
    for name in draw(st.lists(_mixed_keys, unique=True, max_size=5)):
        choice = draw(st.integers(0, 4 if depth < 2 else 1))
        if choice == 0:
            claims[SD(name)] = draw(_mixed_values)
        elif choice == 1:
            claims[name] = draw(_mixed_values)
        elif choice == 2:
            claims[SD(name)] = draw(_mixed_claims(depth + 1))
        elif choice == 3:
            claims[name] = draw(_mixed_claims(depth + 1))
        else:
            claims[name] = [SD(draw(_mixed_values)), draw(_mixed_claims(depth + 1))]
    return claims


def _no_digests(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _no_digests(v) for k, v in value.items() if k != "_sd"}
    if isinstance(value, list):
        return [_no_digests(v) for v in value if not (isinstance(v, dict) and "..." in v)]
    return value


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mixed_claims())
def test_batched_inline_disclosures_keep_the_order_and_text_of_one_by_one(
    claims: dict[Any, Any],
) -> None:
    # With salt_source every disclosure is written one by one (Disclosure.create's way); without
    # it, hidden scalars are written inline and encoded and hashed in batches. Both must make the
    # same disclosures, in the same order, each exactly what Disclosure.create writes, and every
    # digest must be referenced (the credential verifies to the same claims).
    counter = iter(range(10_000))
    try:
        one_by_one = sd_jwt.issue(claims, ISSUER, salt_source=lambda: f"s{next(counter)}")
    except Error as exc:
        with pytest.raises(type(exc)):
            sd_jwt.issue(claims, ISSUER)
        return
    batched = sd_jwt.issue(claims, ISSUER, decoys=(0, 3))
    first = [Disclosure.parse(d) for d in one_by_one.split("~")[1:-1]]
    second = [Disclosure.parse(d) for d in batched.split("~")[1:-1]]
    # Only the salts differ, and the digests and decoys that follow from them.
    assert [(d.name, _no_digests(d.value)) for d in first] == [
        (d.name, _no_digests(d.value)) for d in second
    ]
    for made in second:
        assert made.encoded == Disclosure.create(made.salt, made.name, made.value).encoded
    key = ISSUER.public_key
    a = sd_jwt.verify(one_by_one, lambda h, c: key, expected_typ=None, now=NOW, require_kb=False)
    b = sd_jwt.verify(batched, lambda h, c: key, expected_typ=None, now=NOW, require_kb=False)
    assert a.claims == b.claims
    assert sorted(a.disclosed_paths) == sorted(b.disclosed_paths)


@given(st.binary(max_size=3000))
def test_signing_side_base64url_is_the_stdlib_urlsafe_encoding_unpadded(data: bytes) -> None:
    # jose and sd_jwt encode with b2a_base64 and replaces (not a translate); the text must be
    # exactly the stdlib's URL-safe alphabet without padding, for every length.
    import base64

    expected = base64.urlsafe_b64encode(data).rstrip(b"=")
    assert jose._b64(data) == expected
    assert sd_jwt._b64(data) == expected
    assert jose._b64(bytearray(data)) == expected
