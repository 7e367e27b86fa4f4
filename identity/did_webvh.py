"""The did:webvh DID method, v1.0 (decentralized-identity/didwebvh ``spec-v1.0/specification.md``).

Pure domain code: log lines come in as text, time comes in as a parameter, nothing is fetched.

* **Verifying a log** (§"Read (Resolve)"): every entry, in order — shape, ``versionId`` =
  ``<n>-<entryHash>`` with n = 1, 2, 3 ... (§"Entry Hash Generation and Verification"),
  ``versionTime`` strictly increasing and not after ``now``, the parameters
  (§"did:webvh DID Method Parameters": ``method`` ``did:webvh:1.0`` only, ``scid`` in the first
  entry only, ``updateKeys``, ``nextKeyHashes`` pre-rotation, ``witness``, ``watchers``,
  ``portable``, ``deactivated``, ``ttl``, with their inheritance), the SCID of the first entry
  (§"SCID Generation and Verification"), the DID in ``state.id`` and portability moves
  (§"DID Portability"), and the ``eddsa-jcs-2022`` proof by an authorised key
  (§"Authorized Keys"). Then witness approvals from ``did-witness.json`` (§"DID Witnesses").
  The entries before the first failure stay resolvable by explicit version queries; the DID
  itself does not resolve (§"Read (Resolve)" steps 10-11).
* **Resolving** (``resolve_log`` and ``make_webvh_resolver``): the document with the implicit
  ``#files`` and ``#whois`` services (§"DID URL Resolution"), the metadata of §"Read (Resolve)",
  and the ``versionId`` / ``versionTime`` / ``versionNumber`` queries.
* **Writing** (``create``, ``update``, ``deactivate``): entries with documents that hold only
  keys, services and ``alsoKnownAs``; each new entry is checked with the verifier above.

Choices where the spec or the published vectors leave room are listed in ``docs`` of each
function; the main ones: ``null`` parameter values are refused (the spec forbids them; its
"SHOULD accept" is for pre-1.0 logs); every proof on an entry must verify and be authorised;
``portable: true`` may be repeated later but never switched back on; ``updated`` is the time of
the version resolved (DID Core §7.1.3) while ``deactivated``, ``portable``, ``witness``,
``watchers`` and ``ttl`` are those of the last valid entry (the spec's "current" values).

    >>> from datetime import datetime, UTC
    >>> from identity.keys import KeyType, PrivateKey
    >>> key = PrivateKey.from_private_bytes(KeyType.ED25519, bytes(32))
    >>> now = datetime(2025, 1, 1, tzinfo=UTC)
    >>> did, entry = create("example.com", None, key, now=now)
    >>> result = resolve_log([entry_line(entry)], did, now=now)
    >>> result.document_metadata["versionNumber"], result.did_document["id"] == did
    (1, True)
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from errors import (
    DidDeactivated,
    DidNotFound,
    Error,
    InvalidDid,
    InvalidDidUrl,
    InvalidInput,
    InvalidPublicKey,
    InvalidValue,
    NotFound,
    VerificationFailed,
)
from identity import did_key
from identity._webvh_did import (
    MULTIHASH_SHA256,
    WebvhDid,
    build_webvh_did,
    check_scid,
    parse_webvh_did,
)
from identity.data_integrity import create_proof, jcs, verify_did_key_proof
from identity.did import parse_did_url
from identity.encoding import b58_decode, b58_encode
from identity.keys import KeyType, PrivateKey, PublicKey
from identity.multikey import multikey_from_public_key, public_key_from_multikey
from identity.resolver import DID_CONTENT_TYPE, MethodResolver, ResolutionResult

__all__ = [
    "METHOD",
    "KeyNotValidAt",
    "VerifiedLog",
    "Version",
    "WebvhDid",
    "WebvhLogInvalid",
    "WebvhUnauthorizedKey",
    "WebvhWitnessInsufficient",
    "create",
    "deactivate",
    "entry_line",
    "key_hash",
    "key_valid_at",
    "make_webvh_resolver",
    "parse_webvh_did",
    "resolve_log",
    "sign_entry",
    "update",
    "verify_log",
    "witness_proof",
]

METHOD = "did:webvh:1.0"
SCID_PLACEHOLDER = "{SCID}"
DEFAULT_TTL = 3600

MAX_LINE_CHARS = 1 << 20
MAX_LOG_ENTRIES = 10_000
MAX_WITNESS_PROOFS = 10_000

DID_CONTEXTS = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
LINKED_VP_CONTEXT = "https://identity.foundation/linked-vp/contexts/v1"

_ENTRY_KEYS = frozenset({"versionId", "versionTime", "parameters", "state", "proof"})
_PARAMETER_KEYS = frozenset(
    {
        "method",
        "scid",
        "updateKeys",
        "nextKeyHashes",
        "witness",
        "watchers",
        "portable",
        "deactivated",
        "ttl",
    }
)
_DEFAULTS: dict[str, Any] = {
    "nextKeyHashes": [],
    "witness": {},
    "watchers": [],
    "portable": False,
    "deactivated": False,
    "ttl": None,  # never set: DEFAULT_TTL applies, and the metadata leaves it out
}
_VERSION_ID_RE = re.compile(r"([1-9][0-9]{0,8})-([1-9A-HJ-NP-Za-km-z]{1,64})")
_TIME_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?Z")
_FRAGMENT_RE = re.compile(r"#[A-Za-z0-9._~-]{1,200}")
_URI_RE = re.compile(r"[a-z][a-z0-9+.-]*:[^\s\"<>\\^`{|}]{1,2040}")
_WITNESS_PROBLEM = "https://didwebvh.info/main/resolution-errors/#witness-verification-failed"


# --- errors --------------------------------------------------------------------------------------


class WebvhLogInvalid(VerificationFailed):
    """A did:webvh log (or one of its entries) that fails verification: malformed entries, a
    broken hash chain or SCID, parameters that break the spec's rules, a bad proof, a
    ``versionTime`` going backwards or in the future, an invalid DID move."""

    code = "webvh_log_invalid"
    resolution_error = "invalidDid"
    problem_type: str | None = None
    problem_title = "The DID log failed verification."


class WebvhUnauthorizedKey(WebvhLogInvalid):
    """An entry signed by a key that is not authorised for it (not in the active
    ``updateKeys``), or new ``updateKeys`` that break pre-rotation (hash not committed in the
    previous ``nextKeyHashes``)."""

    code = "webvh_unauthorized_key"
    problem_title = "A log entry is not authorised by an active update key."


class WebvhWitnessInsufficient(WebvhLogInvalid):
    """A witnessed entry without a threshold of valid witness approvals."""

    code = "webvh_witness_insufficient"
    problem_type = _WITNESS_PROBLEM
    problem_title = "Insufficient witness proofs."


class KeyNotValidAt(VerificationFailed):
    """A verification method that was not in the DID document in force at the time asked
    about. ``reason`` is ``"rotated_out"`` (it had been removed by then) or
    ``"not_yet_present"`` (it, or the DID, appeared later)."""

    code = "key_not_valid_at"

    def __init__(self, message: str = "", *, reason: str = "", field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.reason = reason


# --- data ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Version:
    """One verified log entry: its document and the parameters in effect after it."""

    number: int
    version_id: str
    version_time: datetime
    version_time_text: str
    document: dict[str, Any]
    parameters: dict[str, Any]
    entry: dict[str, Any] = field(repr=False)


@dataclass(frozen=True, slots=True)
class VerifiedLog:
    """The result of ``verify_log``: the valid prefix of the log and, if the log goes on past
    it, why the next entry is invalid (``error``) and the time it claimed (if readable)."""

    scid: str
    versions: tuple[Version, ...]
    error: Error | None = None
    invalid_from: datetime | None = None

    @property
    def latest(self) -> Version:
        return self.versions[-1]

    @property
    def dids(self) -> frozenset[str]:
        """Every DID (``state.id``) the valid versions used."""
        return frozenset(v.document["id"] for v in self.versions)


# --- small helpers -------------------------------------------------------------------------------


def _multihash(data: bytes) -> str:
    return b58_encode(MULTIHASH_SHA256 + hashlib.sha256(data).digest())


def _canonical(value: Any) -> bytes:
    try:
        return jcs(value)
    except InvalidValue as exc:
        raise WebvhLogInvalid(f"entry has no JCS form: {exc.message}") from exc


def key_hash(key: PublicKey | str) -> str:
    """The pre-rotation hash of a key: ``base58btc(multihash(SHA-256, multikey))``."""
    multikey = key if isinstance(key, str) else multikey_from_public_key(key)
    return _multihash(multikey.encode("utf-8"))


def entry_line(entry: Mapping[str, Any]) -> str:
    """One JSON Lines line (no newline) for an entry: compact JSON, UTF-8 as is."""
    return json.dumps(entry, separators=(",", ":"), ensure_ascii=False)


def format_time(moment: datetime) -> str:
    """UTC ISO 8601 with ``Z``; microseconds only when non-zero."""
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise InvalidValue("times must be timezone-aware datetimes")
    moment = moment.astimezone(UTC)
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: Any, what: str) -> datetime:
    if not isinstance(value, str):
        raise WebvhLogInvalid(f"{what} must be a string")
    match = _TIME_RE.fullmatch(value)
    if match is None:
        raise WebvhLogInvalid(f"{what} must be a UTC ISO 8601 time like 2025-01-01T00:00:00Z")
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    micro = int((match.group(7) or "0").ljust(6, "0"))
    try:
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)
    except ValueError as exc:
        raise WebvhLogInvalid(f"{what} is not a valid date and time") from exc


def _check_now(now: datetime) -> datetime:
    if not isinstance(now, datetime) or now.tzinfo is None:
        raise InvalidValue("now must be a timezone-aware datetime")
    return now


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise WebvhLogInvalid(f"duplicate member {name!r} in a log entry")
        result[name] = value
    return result


def _reject_constant(name: str) -> Any:
    raise WebvhLogInvalid(f"{name} is not JSON")


def _parse_line(line: str, number: int) -> dict[str, Any]:
    if len(line) > MAX_LINE_CHARS:
        raise WebvhLogInvalid(f"line {number} is longer than {MAX_LINE_CHARS} characters")
    try:
        value = json.loads(
            line, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant
        )
    except (ValueError, RecursionError) as exc:
        if isinstance(exc, WebvhLogInvalid):
            raise
        raise WebvhLogInvalid(f"line {number} is not a JSON object: {exc}") from None
    if not isinstance(value, dict):
        raise WebvhLogInvalid(f"line {number} is not a JSON object")
    return value


def _split_log(lines: str | bytes | Iterable[str | bytes | Mapping[str, Any]]) -> list[Any]:
    """Raw entries (parsed lines, or copies of entry objects) in log order."""
    if isinstance(lines, bytes):
        try:
            lines = lines.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise WebvhLogInvalid("the DID log is not UTF-8") from exc
    items: list[Any]
    if isinstance(lines, str):
        text = lines[:-1] if lines.endswith("\n") else lines
        items = text.split("\n") if text else []
    else:
        items = list(lines)
    if not items:
        raise DidNotFound("the DID log is empty")
    if len(items) > MAX_LOG_ENTRIES:
        raise WebvhLogInvalid(f"the DID log has more than {MAX_LOG_ENTRIES} entries")
    return items


def _entry_from_item(item: Any, number: int) -> dict[str, Any]:
    if isinstance(item, Mapping):
        return copy.deepcopy(dict(item))
    if isinstance(item, bytes):
        try:
            item = item.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise WebvhLogInvalid(f"line {number} is not UTF-8") from exc
    if not isinstance(item, str):
        raise WebvhLogInvalid(f"line {number} must be a string")
    if item.endswith("\n"):
        item = item[:-1]
    if "\n" in item or not item.strip():
        raise WebvhLogInvalid(f"line {number} is empty or holds more than one line")
    return _parse_line(item, number)


# --- parameters ----------------------------------------------------------------------------------


def _string_list(value: Any, name: str, *, max_item: int = 2048) -> list[str]:
    if not isinstance(value, list):
        raise WebvhLogInvalid(f"parameter {name} must be an array")
    for item in value:
        if not isinstance(item, str) or not 0 < len(item) <= max_item:
            raise WebvhLogInvalid(f"parameter {name} must hold non-empty strings")
    if len(set(value)) != len(value):
        raise WebvhLogInvalid(f"parameter {name} has duplicate items")
    return value


def _update_key(multikey: str) -> PublicKey:
    try:
        key = public_key_from_multikey(multikey)
    except Error as exc:
        raise WebvhLogInvalid(f"updateKeys item {multikey!r}: {exc.message}") from exc
    if key.key_type is not KeyType.ED25519:
        raise WebvhLogInvalid("did:webvh:1.0 update keys must be Ed25519 (eddsa-jcs-2022)")
    return key


def _witness_key(did: Any) -> str:
    if not isinstance(did, str):
        raise WebvhLogInvalid("witness id must be a string")
    try:
        key = did_key.public_key_from_did(did)
    except Error as exc:
        raise WebvhLogInvalid(f"witness id {did!r} is not a usable did:key: {exc.message}") from exc
    if key.key_type is not KeyType.ED25519 or did != "did:key:" + multikey_from_public_key(key):
        raise WebvhLogInvalid(f"witness id {did!r} must be an Ed25519 did:key:z6Mk... DID")
    return did


def _check_witness(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise WebvhLogInvalid("parameter witness must be an object")
    if not value:
        return value
    if set(value) != {"threshold", "witnesses"}:
        raise WebvhLogInvalid("parameter witness must be {} or exactly {threshold, witnesses}")
    witnesses = value["witnesses"]
    if not isinstance(witnesses, list) or not witnesses:
        raise WebvhLogInvalid("witness.witnesses must be a non-empty array")
    ids = []
    for item in witnesses:
        if not isinstance(item, dict) or set(item) != {"id"}:
            raise WebvhLogInvalid("each witness must be an object with exactly an 'id'")
        ids.append(_witness_key(item["id"]))
    if len(set(ids)) != len(ids):
        raise WebvhLogInvalid("witness ids must be unique")
    threshold = value["threshold"]
    if not isinstance(threshold, int) or isinstance(threshold, bool):
        raise WebvhLogInvalid("witness.threshold must be an integer")
    if not 1 <= threshold <= len(ids):
        raise WebvhLogInvalid("witness.threshold must be between 1 and the number of witnesses")
    return value


def _apply_parameters(
    delta: Any, previous: dict[str, Any] | None
) -> tuple[dict[str, Any], list[PublicKey]]:
    """Check an entry's ``parameters`` against the rules and the active set ``previous``
    (None for the first entry). Return the new active set and the keys authorised to sign
    this entry."""
    if not isinstance(delta, dict):
        raise WebvhLogInvalid("parameters must be an object")
    unknown = set(delta) - _PARAMETER_KEYS
    if unknown:
        raise WebvhLogInvalid(f"unknown parameters {sorted(unknown)} for {METHOD}")
    for name, value in delta.items():
        if value is None:
            raise WebvhLogInvalid(f"parameter {name} must not be null")
    first = previous is None
    if previous is not None and previous["deactivated"]:
        raise WebvhLogInvalid("the DID is deactivated: no further entries are allowed")
    if first and "method" not in delta:
        raise WebvhLogInvalid("the first entry must set the method parameter")
    if "method" in delta and delta["method"] != METHOD:
        raise WebvhLogInvalid(f"method must be {METHOD!r} (got {delta['method']!r})")
    if first and "scid" not in delta:
        raise WebvhLogInvalid("the first entry must set the scid parameter")
    if not first and "scid" in delta:
        raise WebvhLogInvalid("only the first entry may set the scid parameter")
    if "scid" in delta and not isinstance(delta["scid"], str):
        raise WebvhLogInvalid("parameter scid must be a string")
    if first and "updateKeys" not in delta:
        raise WebvhLogInvalid("the first entry must set updateKeys")
    new_keys: list[PublicKey] | None = None
    if "updateKeys" in delta:
        new_keys = [_update_key(k) for k in _string_list(delta["updateKeys"], "updateKeys")]
        if first and not new_keys:
            raise WebvhLogInvalid("the first entry's updateKeys must not be empty")
    if "nextKeyHashes" in delta:
        _string_list(delta["nextKeyHashes"], "nextKeyHashes", max_item=200)
    if "witness" in delta:
        _check_witness(delta["witness"])
    if "watchers" in delta:
        _string_list(delta["watchers"], "watchers")
    for name in ("portable", "deactivated"):
        if name in delta and not isinstance(delta[name], bool):
            raise WebvhLogInvalid(f"parameter {name} must be a boolean")
    if "ttl" in delta:
        ttl = delta["ttl"]
        if not isinstance(ttl, int) or isinstance(ttl, bool) or not 0 <= ttl <= 2**31:
            raise WebvhLogInvalid("parameter ttl must be an integer from 0 to 2^31")
    if not first and delta.get("portable") is True and not previous["portable"]:
        raise WebvhLogInvalid("portable can only be set to true in the first entry")

    authorised: list[PublicKey]
    if previous is None:
        authorised = new_keys or []
    elif previous["nextKeyHashes"]:
        # Pre-rotation is active: the entry must name its keys and new commitments, every key
        # must have been committed, and the entry is signed by its own (new) keys.
        if new_keys is None or "nextKeyHashes" not in delta:
            raise WebvhUnauthorizedKey(
                "pre-rotation is active: the entry must set updateKeys and nextKeyHashes"
            )
        committed = set(previous["nextKeyHashes"])
        for multikey in delta["updateKeys"]:
            if key_hash(multikey) not in committed:
                raise WebvhUnauthorizedKey(
                    f"pre-rotation: update key {multikey} was not committed in the previous "
                    "entry's nextKeyHashes"
                )
        authorised = new_keys
    else:
        authorised = [_update_key(k) for k in previous["updateKeys"]]

    active = dict(_DEFAULTS) if previous is None else dict(previous)
    active.update(copy.deepcopy(delta))
    return active, authorised


# --- entry checks --------------------------------------------------------------------------------


def _check_scid(entry: dict[str, Any], scid: str) -> None:
    """§"Verify SCID": hash of the first entry with the SCID put back to ``{SCID}``."""
    try:
        check_scid(scid)
    except InvalidDid as exc:
        raise WebvhLogInvalid(f"scid parameter: {exc.message}") from exc
    preliminary = {k: v for k, v in entry.items() if k != "proof"}
    preliminary["versionId"] = SCID_PLACEHOLDER
    text = _canonical(preliminary).decode("utf-8").replace(scid, SCID_PLACEHOLDER)
    if _multihash(_canonical(json.loads(text))) != scid:
        raise WebvhLogInvalid("the SCID does not match the first entry (SCID verification)")


def _check_entry_hash(entry: dict[str, Any], previous_version_id: str, expected: str) -> None:
    try:
        raw = b58_decode(expected)
    except Error as exc:
        raise WebvhLogInvalid("the entry hash is not base58btc") from exc
    if len(raw) != 34 or raw[:2] != MULTIHASH_SHA256:
        raise WebvhLogInvalid("the entry hash is not a SHA-256 multihash")
    unsigned = {k: v for k, v in entry.items() if k != "proof"}
    unsigned["versionId"] = previous_version_id
    if _multihash(_canonical(unsigned)) != expected:
        raise WebvhLogInvalid("the entry hash does not match the entry (tampered or reordered)")


def _proofs(entry: dict[str, Any]) -> list[Any]:
    proofs = entry["proof"]
    if isinstance(proofs, dict):
        proofs = [proofs]
    if not isinstance(proofs, list) or not proofs:
        raise WebvhLogInvalid("proof must be a non-empty array of Data Integrity proofs")
    return proofs


def _check_proofs(entry: dict[str, Any], authorised: list[PublicKey]) -> None:
    unsigned = {k: v for k, v in entry.items() if k != "proof"}
    for proof in _proofs(entry):
        try:
            key = verify_did_key_proof(unsigned, proof, expected_purpose="assertionMethod")
        except Error as exc:
            raise WebvhLogInvalid(f"entry proof does not verify: {exc.message}") from exc
        if key not in authorised:
            raise WebvhUnauthorizedKey(
                f"entry is signed by {multikey_from_public_key(key)}, which is not an active "
                "update key for this entry"
            )


def _check_state(
    state: Any, scid: str, previous: Version | None, active: dict[str, Any]
) -> dict[str, Any]:
    if not isinstance(state, dict):
        raise WebvhLogInvalid("state must be a DID document object")
    did = state.get("id")
    try:
        parsed = parse_webvh_did(did)
    except InvalidDid as exc:
        raise WebvhLogInvalid(f"state.id is not a valid did:webvh DID: {exc.message}") from exc
    if parsed.scid != scid:
        raise WebvhLogInvalid("state.id does not carry the log's SCID")
    if previous is not None and did != previous.document["id"]:
        old = previous.document["id"]
        if not (previous.parameters["portable"] and active["portable"]):
            raise WebvhLogInvalid(f"the DID moved from {old} but the DID is not portable")
        also = state.get("alsoKnownAs")
        if not isinstance(also, list) or old not in also:
            raise WebvhLogInvalid(f"a moved DID document must list {old} in alsoKnownAs")
    return state


def _verify_entry(
    raw: dict[str, Any],
    number: int,
    previous: Version | None,
    scid: str | None,
    now: datetime,
) -> Version:
    missing, extra = _ENTRY_KEYS - set(raw), set(raw) - _ENTRY_KEYS
    if missing or extra:
        raise WebvhLogInvalid(
            f"entry members must be exactly {sorted(_ENTRY_KEYS)} "
            f"(missing {sorted(missing)}, unknown {sorted(extra)})"
        )
    version_id = raw["versionId"]
    match = _VERSION_ID_RE.fullmatch(version_id) if isinstance(version_id, str) else None
    if match is None:
        raise WebvhLogInvalid("versionId must be <number>-<entryHash>")
    if int(match.group(1)) != number:
        raise WebvhLogInvalid(f"versionId number must be {number} (entries missing or reordered)")
    version_time = _parse_time(raw["versionTime"], "versionTime")
    if previous is not None and version_time <= previous.version_time:
        raise WebvhLogInvalid("versionTime must be later than the previous entry's")
    if version_time > now:
        raise WebvhLogInvalid("versionTime is in the future")
    active, authorised = _apply_parameters(
        raw["parameters"], None if previous is None else previous.parameters
    )
    if previous is None or scid is None:
        scid = active["scid"]
        _check_scid(raw, scid)
        chain_from = scid
    else:
        chain_from = previous.version_id
    _check_entry_hash(raw, chain_from, match.group(2))
    state = _check_state(raw["state"], scid, previous, active)
    _check_proofs(raw, authorised)
    return Version(
        number=number,
        version_id=version_id,
        version_time=version_time,
        version_time_text=raw["versionTime"],
        document=state,
        parameters=active,
        entry=raw,
    )


# --- witnesses -----------------------------------------------------------------------------------


def _witness_items(witness: Any) -> list[Any]:
    if witness is None:
        return []
    if isinstance(witness, str | bytes):
        try:
            witness = json.loads(
                witness, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant
            )
        except (ValueError, RecursionError) as exc:
            if isinstance(exc, WebvhLogInvalid):
                raise WebvhWitnessInsufficient(f"did-witness.json: {exc.message}") from exc
            raise WebvhWitnessInsufficient("did-witness.json is not JSON") from None
    if not isinstance(witness, list):
        raise WebvhWitnessInsufficient("did-witness.json must be a JSON array")
    return witness


def _witness_approvals(versions: Sequence[Version], witness: Any) -> dict[str, set[str]]:
    """versionId -> witness DIDs with a valid proof on it. Proofs for versions not in the
    (verified) log are ignored, as are proofs that fail (§"Verifying Witness Proofs")."""
    published = {v.version_id for v in versions}
    approvals: dict[str, set[str]] = {}
    checked = 0
    for item in _witness_items(witness):
        if not isinstance(item, dict) or not isinstance(item.get("versionId"), str):
            raise WebvhWitnessInsufficient("did-witness.json items need a versionId string")
        version_id = item["versionId"]
        proofs = item.get("proof")
        if isinstance(proofs, dict):
            proofs = [proofs]
        if not isinstance(proofs, list):
            raise WebvhWitnessInsufficient("did-witness.json items need a proof array")
        if version_id not in published:
            continue
        for proof in proofs:
            checked += 1
            if checked > MAX_WITNESS_PROOFS:
                raise WebvhWitnessInsufficient("did-witness.json holds too many proofs")
            try:
                key = verify_did_key_proof({"versionId": version_id}, proof)
            except Error:
                continue
            approvals.setdefault(version_id, set()).add("did:key:" + multikey_from_public_key(key))
    return approvals


def _witness_rule(versions: Sequence[Version], index: int) -> dict[str, Any]:
    """The witness configuration an entry must satisfy: the one active before it, except that
    a change away from ``{}`` (and everything in the first entry) applies at once."""
    own = versions[index].parameters["witness"]
    if index == 0:
        return own
    before = versions[index - 1].parameters["witness"]
    return before or own


def _check_witnesses(versions: Sequence[Version], witness: Any) -> int:
    """How many leading versions are witnessed as required; raise nothing, the caller decides."""
    rules = [_witness_rule(versions, i) for i in range(len(versions))]
    if not any(rules):
        return len(versions)
    approvals = _witness_approvals(versions, witness)
    # A witness proof on version j approves every version <= j.
    later: list[set[str]] = [set() for _ in versions]
    running: set[str] = set()
    for index in range(len(versions) - 1, -1, -1):
        running |= approvals.get(versions[index].version_id, set())
        later[index] = set(running)
    for index, rule in enumerate(rules):
        if not rule:
            continue
        wanted = {w["id"] for w in rule["witnesses"]}
        if len(wanted & later[index]) < rule["threshold"]:
            return index
    return len(versions)


# --- verification --------------------------------------------------------------------------------


_VERIFIED_CACHE: OrderedDict[str, tuple[datetime, VerifiedLog]] = OrderedDict()
_VERIFIED_CACHE_SIZE = 512
_VERIFIED_CACHE_LOCK = threading.Lock()


def _cache_key(lines: Any, witness: Any, check_witnesses: bool) -> str | None:
    try:
        items = _split_log(lines)
        text = "\n".join(i if isinstance(i, str) else entry_line(i) if isinstance(i, Mapping)
                         else i.decode("utf-8") for i in items)
        extra = json.dumps([witness, check_witnesses], sort_keys=True, default=str)
    except (Error, TypeError, ValueError, UnicodeDecodeError):
        return None
    return hashlib.sha256((text + "\x00" + extra).encode("utf-8")).hexdigest()


def verify_log(
    lines: str | bytes | Iterable[str | bytes | Mapping[str, Any]],
    *,
    now: datetime,
    witness: Any = None,
    check_witnesses: bool = True,
) -> VerifiedLog:
    """Verify a did.jsonl log (text, lines or entry objects) entry by entry.

    Returns the valid prefix; ``error`` says why the entry after it failed. Raises only when
    nothing is valid: ``DidNotFound`` for an empty log, else the first entry's error.
    ``witness`` is the did-witness.json content (text or parsed); with ``check_witnesses``
    False the witness rules are skipped (for a controller preparing an entry to witness).

    A log that verified completely is remembered (by the SHA-256 of its exact content): the
    same log checked again at the same or a later ``now`` gives the same answer, because the
    only time-dependent rule refuses entries from the future. A copy is returned each time.
    """
    now = _check_now(now)
    if isinstance(lines, list | tuple | str | bytes):
        key = _cache_key(lines, witness, check_witnesses)
        if key is not None:
            with _VERIFIED_CACHE_LOCK:
                cached = _VERIFIED_CACHE.get(key)
                if cached is not None and now >= cached[0]:
                    _VERIFIED_CACHE.move_to_end(key)
                    return copy.deepcopy(cached[1])
        result = _verify_log(lines, now=now, witness=witness, check_witnesses=check_witnesses)
        if key is not None and result.error is None:
            with _VERIFIED_CACHE_LOCK:
                _VERIFIED_CACHE[key] = (now, copy.deepcopy(result))
                while len(_VERIFIED_CACHE) > _VERIFIED_CACHE_SIZE:
                    _VERIFIED_CACHE.popitem(last=False)
        return result
    return _verify_log(lines, now=now, witness=witness, check_witnesses=check_witnesses)


def _verify_log(
    lines: str | bytes | Iterable[str | bytes | Mapping[str, Any]],
    *,
    now: datetime,
    witness: Any = None,
    check_witnesses: bool = True,
) -> VerifiedLog:
    items = _split_log(lines)
    versions: list[Version] = []
    scid: str | None = None
    error: Error | None = None
    invalid_from: datetime | None = None
    for index, item in enumerate(items):
        number = index + 1
        try:
            raw = _entry_from_item(item, number)
            version = _verify_entry(raw, number, versions[-1] if versions else None, scid, now)
        except WebvhLogInvalid as exc:
            error = exc
        except Error as exc:
            error = WebvhLogInvalid(exc.message)
            error.__cause__ = exc
        if error is not None:
            error.message = f"entry {number}: {error.message}"
            error.args = (error.message,)
            invalid_from = _claimed_time(item)
            break
        versions.append(version)
        scid = version.parameters["scid"]
    if check_witnesses and versions:
        witnessed = _check_witnesses(versions, witness)
        if witnessed < len(versions):
            bad = versions[witnessed]
            error = WebvhWitnessInsufficient(
                f"entry {bad.number}: not approved by a threshold of its witnesses"
            )
            invalid_from = bad.version_time
            versions = versions[:witnessed]
    if not versions or scid is None:
        raise error or WebvhLogInvalid("the DID log has no valid entry")
    return VerifiedLog(scid, tuple(versions), error, invalid_from)


def _claimed_time(item: Any) -> datetime | None:
    """The versionTime an invalid entry claims, if it can be read at all."""
    try:
        raw = item if isinstance(item, Mapping) else json.loads(item)
        return _parse_time(raw.get("versionTime"), "versionTime")
    except (Error, ValueError, TypeError, AttributeError, RecursionError):
        return None


# --- resolution ----------------------------------------------------------------------------------


def _select(
    log: VerifiedLog,
    version_id: str | None,
    version_time: datetime | None,
    version_number: int | None,
) -> Version:
    versions = log.versions
    if version_id is None and version_time is None and version_number is None:
        if log.error is not None:
            raise log.error
        return versions[-1]
    chosen: list[Version] = []
    if version_id is not None:
        chosen.extend(v for v in versions if v.version_id == version_id)
        if not chosen:
            _not_found(log, f"no valid version with versionId {version_id}")
    if version_number is not None:
        found = [v for v in versions if v.number == version_number]
        if not found:
            _not_found(log, f"no valid version number {version_number}")
        chosen.extend(found)
    if version_time is not None:
        in_force = [v for v in versions if v.version_time <= version_time]
        if not in_force:
            raise DidNotFound(f"the DID did not exist at {format_time(version_time)}")
        if (
            in_force[-1] is versions[-1]
            and log.error is not None
            and (log.invalid_from is None or version_time >= log.invalid_from)
        ):
            raise log.error
        chosen.append(in_force[-1])
    if any(v is not chosen[0] for v in chosen):
        raise DidNotFound("the version queries select different versions")
    return chosen[0]


def _not_found(log: VerifiedLog, message: str) -> None:
    if log.error is not None:
        raise log.error
    raise DidNotFound(message)


def _with_implicit_services(document: dict[str, Any]) -> dict[str, Any]:
    """§"DID URL Path Resolution", §"whois LinkedVP Service": add ``#files`` and ``#whois``
    unless the document defines them."""
    document = copy.deepcopy(document)
    did = document["id"]
    services = document.get("service", [])
    if not isinstance(services, list):
        return document
    present = set()
    for service in services:
        ident = service.get("id") if isinstance(service, dict) else None
        if isinstance(ident, str):
            present.add(did + ident if ident.startswith("#") else ident)
    base = parse_webvh_did(did).base_url
    added = []
    if f"{did}#files" not in present:
        added.append({"id": f"{did}#files", "type": "relativeRef", "serviceEndpoint": base})
    if f"{did}#whois" not in present:
        added.append(
            {
                "@context": LINKED_VP_CONTEXT,
                "id": f"{did}#whois",
                "type": "LinkedVerifiablePresentation",
                "serviceEndpoint": base + "whois.vp",
            }
        )
    if added:
        document["service"] = [*services, *added]
    return document


def _metadata(log: VerifiedLog, version: Version) -> dict[str, Any]:
    current = log.versions[-1].parameters
    metadata: dict[str, Any] = {
        "versionId": version.version_id,
        "versionTime": version.version_time_text,
        "versionNumber": version.number,
        "created": log.versions[0].version_time_text,
        "updated": version.version_time_text,
        "scid": log.scid,
        "portable": current["portable"],
        "deactivated": current["deactivated"],
        "witness": copy.deepcopy(current["witness"]),
        "watchers": list(current["watchers"]),
    }
    if current["ttl"] is not None:
        metadata["ttl"] = str(current["ttl"])
    return metadata


def _check_did_in_log(log: VerifiedLog, did: str) -> None:
    target = parse_webvh_did(did)
    if target.scid != log.scid:
        raise WebvhLogInvalid(f"the log is for SCID {log.scid}, not {target.scid}")
    if did not in log.dids:
        if log.error is not None:
            raise log.error
        raise WebvhLogInvalid(f"{did} is not the id of any valid version in the log")


def resolve_log(
    lines: str | bytes | Iterable[str | bytes | Mapping[str, Any]],
    did: str,
    *,
    version_id: str | None = None,
    version_time: datetime | None = None,
    version_number: int | None = None,
    now: datetime,
    witness: Any = None,
) -> ResolutionResult:
    """Resolve ``did`` from its log: the document (with implicit services) and metadata.

    Without a version query the whole log must verify; a query may select a valid version
    before an invalid entry (§"Read (Resolve)" step 11). Raises ``InvalidDid``,
    ``WebvhLogInvalid`` (and subclasses) or ``DidNotFound``; ``make_webvh_resolver`` turns them
    into DID Resolution error results.
    """
    parse_webvh_did(did)
    if version_time is not None:
        _check_now(version_time)
    if version_number is not None and (
        not isinstance(version_number, int) or isinstance(version_number, bool)
    ):
        raise InvalidValue("version_number must be an integer")
    log = verify_log(lines, now=now, witness=witness)
    _check_did_in_log(log, did)
    version = _select(log, version_id, version_time, version_number)
    return ResolutionResult(
        _with_implicit_services(version.document),
        _metadata(log, version),
        {"contentType": DID_CONTENT_TYPE},
    )


def _options(options: Mapping[str, Any]) -> dict[str, Any]:
    selected: dict[str, Any] = {}
    if "versionId" in options:
        if not isinstance(options["versionId"], str):
            raise InvalidValue("versionId must be a string")
        selected["version_id"] = options["versionId"]
    if "versionNumber" in options:
        raw = options["versionNumber"]
        if isinstance(raw, int) and not isinstance(raw, bool):
            selected["version_number"] = raw
        elif isinstance(raw, str) and re.fullmatch(r"[1-9][0-9]{0,8}", raw):
            selected["version_number"] = int(raw)
        else:
            raise InvalidValue("versionNumber must be a positive integer")
    if "versionTime" in options:
        raw = options["versionTime"]
        try:
            moment = datetime.fromisoformat(raw) if isinstance(raw, str) else None
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise InvalidValue("versionTime must be an ISO 8601 time with a time zone")
        selected["version_time"] = moment
    return selected


def _failure(exc: Error) -> ResolutionResult:
    code = getattr(exc, "resolution_error", None)
    if not isinstance(code, str):
        if isinstance(exc, NotFound):
            code = "notFound"
        elif isinstance(exc, InvalidInput | VerificationFailed):
            code = "invalidDid"
        else:
            code = "internalError"
    problem: dict[str, str] = {}
    problem_type = getattr(exc, "problem_type", None)
    if problem_type:
        problem["type"] = problem_type
    problem["title"] = getattr(exc, "problem_title", None) or exc.code.replace("_", " ")
    problem["detail"] = exc.message
    return ResolutionResult(
        None,
        {},
        {
            "contentType": DID_CONTENT_TYPE,
            "error": code,
            "errorMessage": exc.message,
            "problemDetails": problem,
        },
    )


def make_webvh_resolver(
    lookup: Callable[[str], Sequence[str] | str | None],
    now: Callable[[], datetime],
    *,
    witness_lookup: Callable[[str], Any] | None = None,
) -> MethodResolver:
    """A ``Resolver.register("webvh", ...)`` function resolving from log lines that
    ``lookup(did)`` supplies (None: ``notFound``); ``witness_lookup(did)`` supplies the
    did-witness.json content for witnessed DIDs. Nothing is ever fetched.

    Options ``versionId``, ``versionTime`` (ISO 8601 with zone), ``versionNumber``; bad values
    give ``invalidOptions``; failures give the DID Resolution codes (``invalidDid``,
    ``notFound``) with RFC 9457 ``problemDetails``.
    """

    def resolve(did: str, options: Mapping[str, str]) -> ResolutionResult:
        try:
            selected = _options(options)
        except InvalidValue as exc:
            return ResolutionResult.failure("invalidOptions", exc.message)
        try:
            parse_webvh_did(did)
            lines = lookup(did)
            if lines is None:
                raise DidNotFound(f"no DID log for {did}")
            witness = witness_lookup(did) if witness_lookup is not None else None
            return resolve_log(lines, did, now=now(), witness=witness, **selected)
        except Error as exc:
            return _failure(exc)

    return resolve


def _method_key(method: Mapping[str, Any]) -> PublicKey:
    if "publicKeyMultibase" in method and isinstance(method["publicKeyMultibase"], str):
        return public_key_from_multikey(method["publicKeyMultibase"])
    if "publicKeyJwk" in method:
        try:
            return PublicKey.from_jwk(method["publicKeyJwk"])
        except Error as exc:
            raise InvalidPublicKey(exc.message) from exc
    raise InvalidPublicKey("verification method has no usable public key")


def _find_method(document: Mapping[str, Any], wanted: str) -> dict[str, Any] | None:
    did = document.get("id")
    for name, value in document.items():
        if name != "verificationMethod" and name not in _RELATIONSHIPS:
            continue
        for method in value if isinstance(value, list) else []:
            if isinstance(method, dict):
                ident = method.get("id")
                if isinstance(ident, str) and ident.startswith("#"):
                    ident = f"{did}{ident}"
                if ident == wanted:
                    return method
    return None


def _in_relationship(document: Mapping[str, Any], relationship: str, wanted: str) -> bool:
    did = document.get("id")
    for entry in document.get(relationship) or []:
        ident = entry.get("id") if isinstance(entry, dict) else entry
        if isinstance(ident, str) and ident.startswith("#"):
            ident = f"{did}{ident}"
        if ident == wanted:
            return True
    return False


_NO_CLOCK = datetime.max.replace(tzinfo=UTC)
_RELATIONSHIPS = frozenset(
    {
        "authentication",
        "assertionMethod",
        "keyAgreement",
        "capabilityInvocation",
        "capabilityDelegation",
    }
)


def key_valid_at(
    lines: str | bytes | Iterable[str | bytes | Mapping[str, Any]],
    did_url: str,
    at: datetime,
    *,
    now: datetime | None = None,
    witness: Any = None,
    relationship: str | None = None,
) -> PublicKey:
    """The key of verification method ``did_url`` (``did:webvh:...#fragment``) if it was in
    the DID document in force at ``at`` (optionally under ``relationship``).

    ``now`` (optional) also checks that no entry is in the future; the key itself only ever
    comes from the version in force at ``at``, and entries after ``at`` that fail verification
    do not matter.
    Raises ``DidDeactivated`` if the DID was deactivated by ``at``, ``KeyNotValidAt`` with
    ``reason`` ``rotated_out`` / ``not_yet_present``, ``DidNotFound`` if the log never had the
    method, and the log's verification error if the state at ``at`` cannot be established.
    """
    url = parse_did_url(did_url)
    if not url.fragment or url.path or url.query is not None:
        raise InvalidDidUrl("expected a DID URL of the form did:webvh:...#fragment")
    did = str(url.did)
    _check_now(at)
    # Without ``now`` the clock check is off: the key can only come from a version in force at
    # ``at``; later entries are read only to tell "not yet present" from "never present".
    log = verify_log(lines, now=_NO_CLOCK if now is None else now, witness=witness)
    _check_did_in_log(log, did)
    in_force = [v for v in log.versions if v.version_time <= at]
    if not in_force:
        raise KeyNotValidAt(
            f"{did} did not exist yet at {format_time(at)}", reason="not_yet_present"
        )
    version = in_force[-1]
    if (
        version is log.versions[-1]
        and log.error is not None
        and (log.invalid_from is None or at >= log.invalid_from)
    ):
        raise log.error
    if version.parameters["deactivated"]:
        raise DidDeactivated(f"{did} was deactivated at {version.version_time_text}")
    wanted = f"{did}#{url.fragment}"
    method = _find_method(version.document, wanted)
    if method is not None:
        if relationship is None or _in_relationship(version.document, relationship, wanted):
            return _method_key(method)
        raise DidNotFound(f"{wanted} was not a {relationship} method at {format_time(at)}")
    if any(_find_method(v.document, wanted) for v in log.versions[: version.number - 1]):
        raise KeyNotValidAt(
            f"{wanted} had been removed from the DID document by {format_time(at)}",
            reason="rotated_out",
        )
    if any(_find_method(v.document, wanted) for v in log.versions[version.number :]):
        raise KeyNotValidAt(
            f"{wanted} was not yet in the DID document at {format_time(at)}",
            reason="not_yet_present",
        )
    raise DidNotFound(f"{wanted} is not a verification method of {did}")


# --- writing -------------------------------------------------------------------------------------


def sign_entry(
    *,
    previous_version_id: str,
    number: int,
    version_time: str,
    parameters: Mapping[str, Any],
    state: Mapping[str, Any],
    key: PrivateKey,
) -> dict[str, Any]:
    """Assemble an entry, compute its ``versionId`` and sign it with ``key`` — without checking
    any rule (``create``/``update`` check; this is the low-level step, also for tests)."""
    entry: dict[str, Any] = {
        "versionId": previous_version_id,
        "versionTime": version_time,
        "parameters": copy.deepcopy(dict(parameters)),
        "state": copy.deepcopy(dict(state)),
    }
    entry["versionId"] = f"{number}-{_multihash(jcs(entry))}"
    entry["proof"] = [create_proof(entry, key, created=version_time)]
    return entry


def witness_proof(version_id: str, witness_key: PrivateKey, *, now: datetime) -> dict[str, Any]:
    """A witness's approval of ``version_id`` for did-witness.json."""
    return create_proof({"versionId": version_id}, witness_key, created=format_time(now))


def _services(services: Iterable[Mapping[str, Any]], did: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    seen: set[str] = set()
    for service in services:
        if not isinstance(service, Mapping) or set(service) != {"id", "type", "serviceEndpoint"}:
            raise InvalidValue("a service is exactly {id, type, serviceEndpoint}")
        ident, kind, endpoint = service["id"], service["type"], service["serviceEndpoint"]
        if isinstance(ident, str) and ident.startswith(did + "#"):
            ident = ident[len(did) :]
        if not isinstance(ident, str) or _FRAGMENT_RE.fullmatch(ident) is None:
            raise InvalidValue("a service id must be a fragment like '#messaging'")
        if not isinstance(kind, str) or not 0 < len(kind) <= 200 or SCID_PLACEHOLDER in kind:
            raise InvalidValue("a service type must be a short non-empty string")
        if not isinstance(endpoint, str) or _URI_RE.fullmatch(endpoint) is None:
            raise InvalidValue("a service endpoint must be an absolute URI")
        if ident in seen:
            raise InvalidValue(f"duplicate service id {ident}")
        seen.add(ident)
        result.append({"id": did + ident, "type": kind, "serviceEndpoint": endpoint})
    return result


def _document(
    did: str,
    keys: Sequence[PublicKey],
    services: Sequence[Mapping[str, Any]],
    also_known_as: Sequence[str] = (),
) -> dict[str, Any]:
    methods = []
    for key in keys:
        if not isinstance(key, PublicKey):
            raise InvalidValue("document keys must be PublicKey objects")
        multikey = multikey_from_public_key(key)
        methods.append(
            {
                "id": f"{did}#{multikey}",
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": multikey,
            }
        )
    if len({m["id"] for m in methods}) != len(methods):
        raise InvalidValue("document keys must be distinct")
    ids = [m["id"] for m in methods]
    document: dict[str, Any] = {"@context": list(DID_CONTEXTS), "id": did}
    if also_known_as:
        document["alsoKnownAs"] = list(also_known_as)
    document["verificationMethod"] = methods
    document["authentication"] = list(ids)
    document["assertionMethod"] = list(ids)
    rendered = _services(services, did)
    if rendered:
        document["service"] = rendered
    return document


def _optional_parameters(
    witness: Mapping[str, Any] | None, watchers: Sequence[str] | None, ttl: int | None
) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if witness is not None:
        params["witness"] = copy.deepcopy(dict(witness))
    if watchers is not None:
        params["watchers"] = list(watchers)
    if ttl is not None:
        params["ttl"] = ttl
    return params


def _checked(exc_source: Callable[[], Any]) -> Any:
    """Run a rule check on data we are about to write; rule breaks are the caller's fault."""
    try:
        return exc_source()
    except WebvhUnauthorizedKey:
        raise
    except WebvhLogInvalid as exc:
        raise InvalidValue(exc.message) from exc


def create(
    domain: str,
    path: str | Sequence[str] | None,
    update_key: PrivateKey,
    *,
    next_key_hashes: Sequence[str] = (),
    services: Sequence[Mapping[str, Any]] = (),
    keys: Sequence[PublicKey] | None = None,
    port: int | None = None,
    portable: bool = False,
    witness: Mapping[str, Any] | None = None,
    watchers: Sequence[str] | None = None,
    ttl: int | None = None,
    now: datetime,
) -> tuple[str, dict[str, Any]]:
    """Create a DID (§"Create (Register)"): return the DID and its first log entry.

    The document holds ``keys`` (default: the update key) as Multikey methods for
    authentication and assertionMethod, and ``services`` (``{"id": "#name", "type": ...,
    "serviceEndpoint": uri}``). ``next_key_hashes`` (see ``key_hash``) turns pre-rotation on.
    """
    version_time = format_time(_check_now(now))
    template = build_webvh_did(SCID_PLACEHOLDER, domain, path, port)
    document = _document(template, [update_key.public_key] if keys is None else keys, services)
    parameters: dict[str, Any] = {
        "method": METHOD,
        "scid": SCID_PLACEHOLDER,
        "updateKeys": [multikey_from_public_key(update_key.public_key)],
    }
    if portable:
        parameters["portable"] = True
    if next_key_hashes:
        parameters["nextKeyHashes"] = list(next_key_hashes)
    parameters.update(_optional_parameters(witness, watchers, ttl))
    preliminary = {
        "versionId": SCID_PLACEHOLDER,
        "versionTime": version_time,
        "parameters": parameters,
        "state": document,
    }
    if SCID_PLACEHOLDER in json.dumps([list(services), list(watchers or []), witness]):
        raise InvalidValue(f"services, watchers and witness must not contain {SCID_PLACEHOLDER}")
    text = jcs(preliminary).decode("utf-8")
    scid = _multihash(text.encode("utf-8"))
    filled = json.loads(text.replace(SCID_PLACEHOLDER, scid))
    entry = sign_entry(
        previous_version_id=scid,
        number=1,
        version_time=version_time,
        parameters=filled["parameters"],
        state=filled["state"],
        key=update_key,
    )
    _checked(lambda: verify_log([entry], now=now, check_witnesses=False))
    return entry["state"]["id"], entry


def _head(
    entries: str | bytes | Sequence[str | bytes | Mapping[str, Any]], now: datetime
) -> tuple[VerifiedLog, list[Any]]:
    items = list(entries) if not isinstance(entries, str | bytes) else _split_log(entries)
    log = verify_log(items, now=now, check_witnesses=False)
    if log.error is not None:
        raise log.error
    if log.latest.parameters["deactivated"]:
        raise DidDeactivated("the DID is deactivated: it cannot be updated")
    return log, items


def _document_keys(document: Mapping[str, Any]) -> list[PublicKey]:
    keys = []
    for method in document.get("verificationMethod") or []:
        if isinstance(method, dict):
            keys.append(_method_key(method))
    return keys


def _document_services(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    did = document["id"]
    result = []
    for service in document.get("service") or []:
        if isinstance(service, dict):
            ident = service.get("id")
            if isinstance(ident, str) and ident.startswith(did + "#"):
                ident = ident[len(did) :]
            endpoint = service.get("serviceEndpoint")
            result.append({"id": ident, "type": service.get("type"), "serviceEndpoint": endpoint})
    return result


def update(
    log_entries: str | bytes | Sequence[str | bytes | Mapping[str, Any]],
    update_key: PrivateKey,
    *,
    document: Mapping[str, Any] | None = None,
    keys: Sequence[PublicKey] | None = None,
    services: Sequence[Mapping[str, Any]] | None = None,
    new_update_keys: Sequence[PublicKey] | None = None,
    next_key_hashes: Sequence[str] | None = None,
    domain: str | None = None,
    path: str | Sequence[str] | None = None,
    port: int | None = None,
    witness: Mapping[str, Any] | None = None,
    watchers: Sequence[str] | None = None,
    ttl: int | None = None,
    now: datetime,
    _deactivate: bool = False,
) -> dict[str, Any]:
    """The next log entry (§"Update (Rotate)"), signed by ``update_key``.

    The new document is ``document`` (whole), or the current one with ``keys`` and/or
    ``services`` replaced. ``domain`` (with ``path``/``port``) moves a portable DID and lists
    the old DID in ``alsoKnownAs``. ``new_update_keys`` rotates the update keys; while
    pre-rotation is active they (default: the signing key) must have been committed, and
    ``next_key_hashes`` must be given (``[]`` ends pre-rotation).
    """
    version_time = format_time(_check_now(now))
    log, items = _head(log_entries, now)
    head = log.latest
    current_did = head.document["id"]
    new_did = current_did
    if domain is not None:
        new_did = build_webvh_did(log.scid, domain, path, port)
        if new_did != current_did and not head.parameters["portable"]:
            raise InvalidValue("the DID is not portable: it cannot move")
    if document is not None:
        if keys is not None or services is not None:
            raise InvalidValue("give either a whole document or keys/services, not both")
        new_document = copy.deepcopy(dict(document))
        if new_document.get("id") != new_did:
            raise InvalidValue(f"the document id must be {new_did}")
    else:
        also = list(head.document.get("alsoKnownAs") or [])
        if new_did != current_did and current_did not in also:
            also.append(current_did)
        new_document = _document(
            new_did,
            _document_keys(head.document) if keys is None else keys,
            _document_services(head.document) if services is None else services,
            also,
        )
    pre_rotation = bool(head.parameters["nextKeyHashes"])
    parameters: dict[str, Any] = {}
    if pre_rotation and new_update_keys is None:
        new_update_keys = [update_key.public_key]
    if new_update_keys is not None:
        parameters["updateKeys"] = [multikey_from_public_key(k) for k in new_update_keys]
    if pre_rotation and next_key_hashes is None:
        raise InvalidValue("pre-rotation is active: give next_key_hashes ([] to end it)")
    if next_key_hashes is not None:
        parameters["nextKeyHashes"] = list(next_key_hashes)
    parameters.update(_optional_parameters(witness, watchers, ttl))
    if _deactivate:
        parameters["deactivated"] = True
    authorised = (
        list(new_update_keys or [])
        if pre_rotation
        else [_update_key(k) for k in head.parameters["updateKeys"]]
    )
    if update_key.public_key not in authorised:
        raise WebvhUnauthorizedKey("the signing key is not authorised to update this DID")
    if _parse_time(version_time, "now") <= head.version_time:
        raise InvalidValue("now must be later than the last entry's versionTime")
    entry = sign_entry(
        previous_version_id=head.version_id,
        number=head.number + 1,
        version_time=version_time,
        parameters=parameters,
        state=new_document,
        key=update_key,
    )
    extended = _checked(lambda: verify_log([*items, entry], now=now, check_witnesses=False))
    if extended.error is not None:
        _checked(lambda: _reraise(extended.error))
    return entry


def _reraise(error: Error) -> None:
    raise error


def deactivate(
    log_entries: str | bytes | Sequence[str | bytes | Mapping[str, Any]],
    update_key: PrivateKey,
    *,
    now: datetime,
) -> list[dict[str, Any]]:
    """The entries that deactivate the DID (§"Deactivate (Revoke)"): ``deactivated: true`` and
    ``updateKeys: []``, document unchanged. If pre-rotation is active, a first entry (one
    microsecond earlier, signed by the committed ``update_key``) ends it, as the spec requires.
    """
    _check_now(now)
    log, items = _head(log_entries, now)
    added: list[dict[str, Any]] = []
    if log.latest.parameters["nextKeyHashes"]:
        added.append(
            update(
                items,
                update_key,
                document=log.latest.document,
                new_update_keys=[update_key.public_key],
                next_key_hashes=[],
                now=now - timedelta(microseconds=1),
            )
        )
    added.append(
        update(
            [*items, *added],
            update_key,
            document=log.latest.document,
            new_update_keys=[],
            now=now,
            _deactivate=True,
        )
    )
    return added
