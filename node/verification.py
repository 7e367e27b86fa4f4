"""The node as a verifier: OpenID4VP 1.0 requests and responses, direct verification, receipts.

Wiring only; the checks live in ``credentials.verifier`` and the query language in
``credentials.dcql``. What this module decides:

* **Issuer keys** come from the registry: ``node.dids.resolve_key`` at the credential's ``iat``
  (the DID's did:webvh history in this node's log or a verified mirror), with the inclusion
  proof of the DID version in force at that time against a verified checkpoint (this node's own
  checkpoint, its signature checked with the log key; or the checkpoint a mirror sync verified
  against the pinned key of the mirrored log).
* **Trust**: an issuer is trusted when registry governance gives its DID the ``issuer`` role, in
  this node's log or in the mirrored log that holds its DID history (the governance entries of
  the mirror are replayed).
* **Status**: a status list is fetched only from the issuer's ``KycIdentityNode`` service
  endpoint in its DID document (the URI must lie under it: same scheme, host and port, path
  below it), with a timeout and a size limit, and its SHA-256 must equal the latest
  ``status.publish`` anchor the issuer wrote for that URI (else: split view).
* **Requests**: ``client_id`` is ``decentralized_identifier:<institution DID>``; the request
  object is passed by reference and signed (``typ: oauth-authz-req+jwt``) with the institution's
  issuing key, so a wallet can check who asks. The wallet answers with ``direct_post``.
* **Replay**: a nonce is consumed (stored as a hash of audience and nonce) when a presentation
  bound to it is accepted; a second presentation for it is refused, also after a restart. A
  presentation that fails changes nothing.
"""

from __future__ import annotations

import base64
import bisect
import functools
import hashlib
import io
import json
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import quote, urlsplit

import segno

import errors
from credentials import dcql, jose
from credentials.verifier import (
    Check,
    FetchedStatusList,
    InclusionEvidence,
    NonceReplayed,
    Policy,
    ResolvedKey,
    StatusUnavailable,
    StatusUriNotAllowed,
    Verdict,
    Verifier,
    sign_receipt,
)
from identity.did import parse_did_url
from identity.keys import PrivateKey
from identity.multikey import multikey_from_public_key
from node import dids, peers
from registry.checkpoint import open_checkpoint
from registry.entries import EntryType, parse_entry
from registry.governance import WriterSet
from registry.log import Log
from storage.verification import VerifierRequestRow

if TYPE_CHECKING:
    from node import Node

__all__ = [
    "InvalidVpToken",
    "PresentationRejected",
    "StateMismatch",
    "VerificationOutcome",
    "VerificationService",
    "VerifierRequestAnswered",
    "VerifierRequestExpired",
    "VerifierRequestNotFound",
]

CLIENT_ID_PREFIX = "decentralized_identifier:"
REQUEST_OBJECT_TYP = "oauth-authz-req+jwt"
DEFAULT_REQUEST_TTL = 600
STATUS_FETCH_TIMEOUT = 5.0
STATUS_MAX_BYTES = 4 * 1024 * 1024
MAX_PRESENTATIONS = 8


class VerifierRequestNotFound(errors.NotFound):
    code = "verifier_request_not_found"


class VerifierRequestExpired(errors.NotFound):
    code = "verifier_request_expired"


class VerifierRequestAnswered(errors.Conflict):
    code = "verifier_request_answered"


class StateMismatch(errors.InvalidInput):
    code = "state_mismatch"


class InvalidVpToken(errors.InvalidInput):
    code = "invalid_vp_token"


class PresentationRejected(errors.VerificationFailed):
    """The presentation was verified and failed: the answer carries the verdict."""

    code = "presentation_rejected"


@dataclass(frozen=True, slots=True)
class VerificationOutcome:
    verdict: Verdict
    receipt: str
    receipt_id: str

    def to_json(self) -> dict[str, Any]:
        return {**self.verdict.to_json(), "receipt": self.receipt, "receipt_id": self.receipt_id}


def _under(uri: str, endpoint: str) -> bool:
    """``uri`` lies under ``endpoint``: same scheme, host and port, no user info, a path below
    the endpoint's path (segment-wise), no dot segments or encoded ones."""
    try:
        target, base = urlsplit(uri), urlsplit(endpoint)
        target_port, base_port = target.port, base.port
    except ValueError:
        return False
    if target.scheme not in ("http", "https") or target.scheme != base.scheme:
        return False
    if target.username is not None or target.password is not None or target.fragment:
        return False
    if (target.hostname or "") != (base.hostname or "") or target_port != base_port:
        return False
    path = target.path
    lowered = path.lower()
    if (
        "/../" in path + "/"
        or "/./" in path + "/"
        or "%2e" in lowered
        or "%2f" in lowered
        or "\\" in path
        or "%5c" in lowered
    ):
        return False
    prefix = base.path.rstrip("/") + "/"
    return path.startswith(prefix) and len(path) > len(prefix)


def _version_datetime(entry: Mapping[str, Any]) -> datetime:
    """When a DID version took effect; an unreadable time sorts last (never in force)."""
    text = str(entry.get("versionTime", ""))
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        return datetime.max.replace(tzinfo=UTC)
    return moment


def _version_time(entry: Mapping[str, Any]) -> float:
    text = str(entry.get("versionTime", ""))
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return float("inf")


_K = TypeVar("_K")
_V = TypeVar("_V")


class _UntilLogsGrow(Generic[_K, _V]):
    """Answers read from the registry, each kept with the sizes of the logs it was read from
    (``dids.registry_view``): logs only grow, so while the sizes are equal the answer is too.
    ``sizes`` is ``()`` for answers that never change. Bounded: emptied when full."""

    __slots__ = ("_entries", "_limit")

    def __init__(self, limit: int = 4096) -> None:
        self._entries: dict[_K, tuple[tuple[int, ...], _V]] = {}
        self._limit = limit

    def get(self, key: _K, sizes: tuple[int, ...], make: Callable[[], _V]) -> _V:
        """The kept answer, or ``make()``'s (kept unless it raises)."""
        kept = self._entries.get(key)
        if kept is not None and kept[0] == sizes:
            return kept[1]
        value = make()
        if len(self._entries) >= self._limit:
            self._entries.clear()
        self._entries[key] = (sizes, value)
        return value

    def clear(self) -> None:
        self._entries.clear()


@functools.lru_cache(maxsize=1024)
def _parse_kid(kid: str) -> Any:
    """``parse_did_url``, remembered (it raises on bad input, and errors are not cached)."""
    return parse_did_url(kid)


class VerificationService:
    def __init__(self, node: Node, *, request_ttl: int = DEFAULT_REQUEST_TTL) -> None:
        self.node = node
        self.request_ttl = request_ttl
        # Outbound HTTP for status lists; tests replace it (same signature as peers.fetch).
        self.fetch: Callable[..., peers.HttpReply] = peers.fetch
        # This node's own lists are read from its store (what it serves), not over HTTP.
        self.read_own_status_locally = True
        self.verifier = Verifier(self.key_at, self.is_trusted, self.fetch_status)
        self._mirror_writers: dict[str, tuple[int, WriterSet]] = {}
        self._own_checkpoint: tuple[bytes, tuple[int, bytes]] | None = None
        self._view = threading.local()
        # Answers derived from the registry (see _UntilLogsGrow).
        self._endpoints: _UntilLogsGrow[str, str] = _UntilLogsGrow()
        self._evidence_cache: _UntilLogsGrow[tuple[str, int, int, bytes], InclusionEvidence] = (
            _UntilLogsGrow(1024)
        )
        self._keys: _UntilLogsGrow[tuple[str, int, int], ResolvedKey] = _UntilLogsGrow()
        self._version_times: _UntilLogsGrow[str, list[datetime]] = _UntilLogsGrow()
        self._anchors: _UntilLogsGrow[tuple[str, str], str | None] = _UntilLogsGrow()
        self._trusted: _UntilLogsGrow[str, bool] = _UntilLogsGrow()

    def clear_caches(self) -> None:
        """Forget every remembered registry answer (after restoring the store from a backup:
        the caches are keyed on log sizes, and a restored log may reuse a size)."""
        for cache in (self._keys, self._version_times, self._anchors, self._trusted,
                      self._endpoints, self._evidence_cache, self._mirror_writers):
            cache.clear()
        self._own_checkpoint = None

    # --- identity -------------------------------------------------------------------------------

    @property
    def client_id(self) -> str:
        return CLIENT_ID_PREFIX + self.node.institution.did

    def _signing_key(self) -> tuple[PrivateKey, str]:
        keyring = self.node.keyring
        key = keyring.private_key(keyring.current("issuing-ed25519"))
        kid = f"{self.node.institution.did}#{multikey_from_public_key(key.public_key)}"
        return key, kid

    # --- collaborators of the verifier ----------------------------------------------------------

    def registry_view(self) -> dids.RegistryView:
        """The logs and their sizes, read once per verification (see ``verify``)."""
        view: dids.RegistryView | None = getattr(self._view, "current", None)
        return view if view is not None else dids.registry_view(self.node)

    def key_at(self, kid: str, at: float) -> ResolvedKey:
        """``iat`` has whole seconds: the key must be valid at some instant of that second (a
        DID version created at 12:00:00.4 holds the key of a credential with iat 12:00:00).

        A found key is remembered: with the logs unchanged, the answer depends on ``at`` only
        through which DID versions were in force at ``at`` and at ``at + 0.999``."""
        url = _parse_kid(kid)
        if url.did.method != "webvh":
            return self._resolve_key(kid, url, at)
        did = str(url.did)
        view = self.registry_view()
        found = dids._find(self.node, did, view)
        if found is None:
            return self._resolve_key(kid, url, at)
        chain = found[1]
        times = self._version_times.get(
            did, view[1], lambda: [_version_datetime(entry) for _index, entry in chain]
        )
        versions = (
            bisect.bisect_right(times, datetime.fromtimestamp(at, UTC)),
            bisect.bisect_right(times, datetime.fromtimestamp(at + 0.999, UTC)),
        )
        # raises when there is no key: then nothing is remembered
        return self._keys.get(
            (kid, *versions), view[1], lambda: self._resolve_key(kid, url, at)
        )

    def _resolve_key(self, kid: str, url: Any, at: float) -> ResolvedKey:
        try:
            key = dids.resolve_key(self.node, kid, datetime.fromtimestamp(at, UTC))
        except errors.Error as first:
            try:
                at = at + 0.999
                key = dids.resolve_key(self.node, kid, datetime.fromtimestamp(at, UTC))
            except errors.Error:
                raise first from None
        if url.did.method != "webvh":
            return ResolvedKey(key)
        return ResolvedKey(key, self._evidence(str(url.did), at))

    def _evidence(self, did: str, at: float) -> InclusionEvidence | None:
        found = dids._find(self.node, did, self.registry_view())
        if found is None:
            return None
        log, chain = found
        in_force = [index for index, entry in chain if _version_time(entry) <= at]
        if not in_force:
            return None
        index = in_force[-1]
        size, root = self._verified_checkpoint(log)
        if index >= size:
            return None
        # Evidence for (log, entry, tree) never changes; the verifier re-checks it every time.
        return self._evidence_cache.get(
            (log.origin, index, size, root),
            (),
            lambda: InclusionEvidence(
                entry=log.entry(index),
                index=index,
                tree_size=size,
                proof=tuple(log.inclusion_proof(index, size)),
                root=root,
            ),
        )

    def _verified_checkpoint(self, log: Log) -> tuple[int, bytes]:
        if log is self.node.registry.log:
            note = log.checkpoint_note()
            if self._own_checkpoint is not None and self._own_checkpoint[0] == note:
                return self._own_checkpoint[1]
            opened = open_checkpoint(note, [self.node.registry.log_verifier], origin=log.origin)
            verified = (opened.checkpoint.size, opened.checkpoint.root_hash)
            self._own_checkpoint = (note, verified)  # same bytes, same verified answer
            return verified
        # A mirror stores a checkpoint only after verifying it against the mirrored log's pinned
        # key, its witnesses and the entries it re-admitted (node/mirror.py).
        latest = log.store.latest_checkpoint()
        if latest is None:
            raise errors.NotFound("the mirror has no verified checkpoint")
        return latest[0], latest[1]

    def _mirror_logs(self) -> list[tuple[str, Log]]:
        return self.node.mirror_logs()

    def _governance(self, mirror_id: str, log: Log) -> WriterSet:
        size = log.size()
        cached = self._mirror_writers.get(mirror_id)
        if cached is not None and cached[0] == size:
            return cached[1]
        # The policy only matters to authorise new entries; replay applies entries the mirror
        # sync already re-admitted under the mirrored log's pinned governance policy.
        writers = WriterSet(self.node.registry.policy)
        types = [str(EntryType.WRITER_ADD), str(EntryType.WRITER_REMOVE)]
        for index, data in log.store.registry_entries_of_types(types, 0):  # type: ignore[attr-defined]
            if index < size:
                writers.apply(parse_entry(data), index)
        self._mirror_writers[mirror_id] = (size, writers)
        return writers

    def is_trusted(self, issuer: str) -> bool:
        """``issuer`` holds the ``issuer`` role in this node's governance, or in the governance
        of the mirrored log that holds its DID history. Remembered while the logs are
        unchanged (governance changes only by appended entries)."""
        return self._trusted.get(
            issuer, self.registry_view()[1], lambda: self._is_trusted(issuer)
        )

    def _is_trusted(self, issuer: str) -> bool:
        if self.node.registry.log.writers().has_role(issuer, "issuer"):
            return True
        found = dids._find(self.node, issuer, self.registry_view())
        if found is None:
            return False
        for mirror_id, log in self._mirror_logs():
            if log.origin == found[0].origin:
                return self._governance(mirror_id, log).has_role(issuer, "issuer")
        return False

    def issuer_endpoint(self, issuer: str) -> str:
        # The endpoint can only change with a new DID version, i.e. when a log grows.
        return self._endpoints.get(
            issuer, self.registry_view()[1], lambda: self._resolve_endpoint(issuer)
        )

    def _resolve_endpoint(self, issuer: str) -> str:
        result = self.node.resolver.resolve(issuer)
        document = result.did_document
        if document is None:
            raise StatusUriNotAllowed("the issuer's DID does not resolve: no endpoint known")
        services = document.get("service") or []
        for service in services if isinstance(services, list) else []:
            if (
                isinstance(service, Mapping)
                and service.get("type") == dids.NODE_SERVICE_TYPE
                and isinstance(service.get("serviceEndpoint"), str)
            ):
                return str(service["serviceEndpoint"])
        raise StatusUriNotAllowed("the issuer's DID document declares no KycIdentityNode endpoint")

    def _anchor(self, issuer: str, uri: str) -> str | None:
        """The token hash of the latest ``status.publish`` the issuer wrote for ``uri``
        (remembered while the logs are unchanged: a new publication is an append)."""
        logs, sizes = self.registry_view()
        return self._anchors.get(
            (issuer, uri), sizes, lambda: self._latest_anchor(issuer, uri, logs, sizes)
        )

    @staticmethod
    def _latest_anchor(
        issuer: str, uri: str, logs: list[Log], sizes: tuple[int, ...]
    ) -> str | None:
        for log, size in zip(logs, sizes, strict=True):
            latest = None
            for index, data in log.store.registry_subject_chain(uri):  # type: ignore[attr-defined]
                if index >= size:
                    break
                entry = parse_entry(data)
                if entry.type is EntryType.STATUS_PUBLISH and entry.writer == issuer:
                    latest = str(entry.payload["token_sha256"])
            if latest is not None:
                return latest
        return None

    def fetch_status(self, issuer: str, uri: str) -> FetchedStatusList:
        endpoint = self.issuer_endpoint(issuer)
        if not _under(uri, endpoint):
            raise StatusUriNotAllowed(
                f"the status list URI is not under the issuer's endpoint {endpoint}"
            )
        if self.read_own_status_locally and issuer == self.node.institution.did:
            row = self.node.issuance.status.current(uri)
            return FetchedStatusList(str(row.token), self._anchor(issuer, uri))
        try:
            reply = self.fetch(uri, timeout=STATUS_FETCH_TIMEOUT, max_bytes=STATUS_MAX_BYTES)
        except errors.Error as exc:
            raise StatusUnavailable(f"the status list could not be fetched: {exc.message}") from exc
        if reply.status != 200:
            raise StatusUnavailable(f"the issuer answered {reply.status} for its status list")
        try:
            token = reply.body.decode("ascii").strip()
        except UnicodeDecodeError as exc:
            raise StatusUnavailable("the status list is not a compact JWT") from exc
        return FetchedStatusList(token, self._anchor(issuer, uri))

    # --- verifying ------------------------------------------------------------------------------

    def verify(self, presentation: Any, policy: Policy) -> Verdict:
        """One presentation: an SD-JWT VC (it has ``~``) or a ``vp+jwt``.

        The registry is read once, at the start: every lookup of this verification answers
        from the same log sizes (one consistent view, and one read instead of one per lookup).
        """
        outer = getattr(self._view, "current", None)
        self._view.current = dids.registry_view(self.node)
        try:
            if isinstance(presentation, str) and "~" in presentation:
                return self.verifier.verify_sd_jwt_vc(presentation, policy)
            return self.verifier.verify_vp_jwt(presentation, policy)
        finally:
            self._view.current = outer

    def policy(
        self, nonce: str, audience: str, query: dcql.CredentialQuery | None = None
    ) -> Policy:
        return Policy(
            now=self.node.clock().timestamp(),
            nonce=nonce,
            audience=audience,
            query=query,
            require_key_binding=True
            if query is None
            else query.require_cryptographic_holder_binding,
        )

    @staticmethod
    def _nonce_hash(audience: str, nonce: str) -> str:
        return hashlib.sha256(f"{audience}\n{nonce}".encode()).hexdigest()

    def _receipt(
        self, verdict: Verdict, presentation: str, nonce: str, audience: str
    ) -> tuple[str, str]:
        key, kid = self._signing_key()
        receipt_id = "rcpt_" + secrets.token_urlsafe(12)
        receipt = sign_receipt(
            verdict,
            key,
            kid=kid,
            verifier=self.node.institution.did,
            iat=self.node.unix_now(),
            jti=receipt_id,
            presentation=presentation,
            nonce=nonce,
            audience=audience,
        )
        return receipt, receipt_id

    def _accept(self, verdict: Verdict, nonce: str, audience: str) -> Verdict:
        """Consume the nonce of a valid verdict (inside the caller's transaction)."""
        if not verdict.valid:
            return verdict
        if self.node.store.consume_verifier_nonce(
            self._nonce_hash(audience, nonce), self.node.now()
        ):
            return verdict
        replay = NonceReplayed("this nonce was already used by an accepted presentation")
        check = Check("replay", False, replay.code, replay.message)
        return replace(verdict, valid=False, checks=(*verdict.checks, check), claims=None)

    def verify_direct(
        self, presentation: str, nonce: str, audience: str, api_key_id: int | None
    ) -> VerificationOutcome:
        """``POST /verifier/verify``: verify, refuse a replayed nonce, sign a receipt."""
        if self.node.store.verifier_nonce_consumed(self._nonce_hash(audience, nonce)):
            verdict = Verdict(
                False, (Check("replay", False, NonceReplayed.code, "this nonce was already used"),)
            )
        else:
            verdict = self.verify(presentation, self.policy(nonce, audience))
        with self.node.store.transaction():
            verdict = self._accept(verdict, nonce, audience)
            receipt, receipt_id = self._receipt(verdict, presentation, nonce, audience)
            if verdict.valid:
                self.node.store.add_verification_receipt(
                    receipt_id,
                    request_id=None,
                    api_key_id=api_key_id,
                    valid=True,
                    receipt=receipt,
                    now=self.node.now(),
                )
        return VerificationOutcome(verdict, receipt, receipt_id)

    # --- OpenID4VP requests ----------------------------------------------------------------------

    def create_request(
        self, query_json: Any, api_key_id: int, expires_in: int | None = None
    ) -> VerifierRequestRow:
        query = dcql.parse_query(query_json)
        request_id = "vpreq_" + secrets.token_urlsafe(16)
        base = self.node.config.public_url
        row = VerifierRequestRow(
            id=request_id,
            state=secrets.token_urlsafe(16),
            nonce=secrets.token_urlsafe(24),
            client_id=self.client_id,
            response_uri=f"{base}/oid4vp/responses/{request_id}",
            dcql_query=query.to_json(),
            api_key_id=api_key_id,
            created_at=self.node.now(),
            expires_at=self.node.unix_now() + (expires_in or self.request_ttl),
            status="pending",
        )
        with self.node.store.transaction():
            self.node.store.add_verifier_request(row)
        return row

    def get_request(self, request_id: str, api_key_id: int | None = None) -> VerifierRequestRow:
        row = self.node.store.get_verifier_request(request_id)
        if row is None or (api_key_id is not None and row.api_key_id != api_key_id):
            raise VerifierRequestNotFound("no such verification request")
        return row

    def status_of(self, row: VerifierRequestRow) -> str:
        if row.status == "pending" and self.node.unix_now() >= row.expires_at:
            return "expired"
        return row.status

    def request_uri(self, row: VerifierRequestRow) -> str:
        return f"{self.node.config.public_url}/oid4vp/requests/{row.id}"

    def wallet_uri(self, row: VerifierRequestRow) -> str:
        """The ``openid4vp://`` URI a wallet opens (request by reference)."""
        return (
            f"openid4vp://?client_id={quote(row.client_id, safe='')}"
            f"&request_uri={quote(self.request_uri(row), safe='')}"
        )

    def qr_code(self, row: VerifierRequestRow, kind: str) -> bytes:
        buffer = io.BytesIO()
        segno.make(self.wallet_uri(row), error="m").save(buffer, kind=kind, scale=4, border=4)
        return buffer.getvalue()

    def request_object(self, row: VerifierRequestRow) -> str:
        """The signed request object served at ``request_uri`` (OpenID4VP §5, RFC 9101)."""
        if self.status_of(row) != "pending":
            raise VerifierRequestExpired("this request is no longer open")
        key, kid = self._signing_key()
        claims = {
            "iss": row.client_id,
            "aud": "https://self-issued.me/v2",
            "iat": self.node.unix_now(),
            "exp": row.expires_at,
            "client_id": row.client_id,
            "response_type": "vp_token",
            "response_mode": "direct_post",
            "response_uri": row.response_uri,
            "nonce": row.nonce,
            "state": row.state,
            "dcql_query": row.dcql_query,
            "client_metadata": {
                "vp_formats_supported": {
                    "dc+sd-jwt": {
                        "sd-jwt_alg_values": ["EdDSA", "Ed25519", "ES256"],
                        "kb-jwt_alg_values": ["EdDSA", "Ed25519", "ES256"],
                    },
                    "jwt_vc_json": {"alg_values": ["EdDSA", "Ed25519", "ES256"]},
                }
            },
        }
        return jose.sign_compact({"typ": REQUEST_OBJECT_TYP, "kid": kid}, claims, key)

    def request_view(self, row: VerifierRequestRow, *, with_receipt: bool = True) -> dict[str, Any]:
        view: dict[str, Any] = {
            "id": row.id,
            "status": self.status_of(row),
            "client_id": row.client_id,
            "response_type": "vp_token",
            "response_mode": "direct_post",
            "response_uri": row.response_uri,
            "nonce": row.nonce,
            "state": row.state,
            "dcql_query": row.dcql_query,
            "request_uri": self.request_uri(row),
            "openid4vp_uri": self.wallet_uri(row),
            "created_at": row.created_at,
            "expires_at": datetime.fromtimestamp(row.expires_at, UTC)
            .isoformat()
            .replace("+00:00", "Z"),
        }
        if row.verdict is not None:
            view["verdict"] = self._open_claims(row.id, row.verdict)
        if with_receipt and row.receipt_id is not None:
            view["receipt_id"] = row.receipt_id
            view["receipt"] = self.node.store.get_verification_receipt(row.receipt_id)
        return view

    # The disclosed claims are personal data: at rest they are sealed under the master key
    # (bound to the request id); the rest of the verdict (check names, codes) stays readable.

    def _seal_claims(self, request_id: str, verdict: dict[str, Any]) -> dict[str, Any]:
        claims = verdict.get("claims")
        if claims is None:
            return verdict
        sealed = self.node.sealer.seal(json.dumps(claims).encode(),
                                       b"verdict_claims:" + request_id.encode())
        return {**verdict, "claims": None,
                "claims_sealed": base64.b64encode(sealed).decode("ascii")}

    def _open_claims(self, request_id: str, stored: dict[str, Any]) -> dict[str, Any]:
        if "claims_sealed" not in stored:
            return stored
        sealed = base64.b64decode(stored["claims_sealed"])
        purpose = b"verdict_claims:" + request_id.encode()
        claims = json.loads(self.node.sealer.open(sealed, purpose))
        view = {k: v for k, v in stored.items() if k != "claims_sealed"}
        view["claims"] = claims
        return view

    def _presentations(self, vp_token: Any, query: dcql.DcqlQuery) -> list[tuple[str, str]]:
        if not isinstance(vp_token, dict) or not vp_token:
            raise InvalidVpToken("vp_token must be a JSON object keyed by credential query id")
        found: list[tuple[str, str]] = []
        for query_id, items in vp_token.items():
            credential_query = query.credential(query_id)
            if credential_query is None:
                raise InvalidVpToken(f"vp_token answers no credential query {query_id!r}")
            if (
                not isinstance(items, list)
                or not items
                or (len(items) > 1 and not credential_query.multiple)
            ):
                raise InvalidVpToken(
                    "each vp_token value is an array of one presentation "
                    "(several only where the query allows multiple)"
                )
            for item in items:
                if not isinstance(item, str) or not item:
                    raise InvalidVpToken("a presentation is a non-empty string")
                found.append((query_id, item))
        if len(found) > MAX_PRESENTATIONS:
            raise InvalidVpToken(f"at most {MAX_PRESENTATIONS} presentations")
        return found

    def respond(self, request_id: str, vp_token: Any, state: str) -> tuple[Verdict, bool]:
        """A wallet's ``direct_post`` answer. Returns the verdict and whether it was accepted
        (then the request is completed and a receipt filed)."""
        row = self.get_request(request_id)
        status = self.status_of(row)
        if status == "expired":
            raise VerifierRequestExpired("this request has expired")
        if status != "pending":
            raise VerifierRequestAnswered("this request was already answered")
        if not secrets.compare_digest(state.encode(), row.state.encode()):
            raise StateMismatch("state does not match the request")
        query = dcql.parse_query(row.dcql_query)
        presented = self._presentations(vp_token, query)
        results = [
            (
                query_id,
                self.verify(
                    item, self.policy(row.nonce, row.client_id, query.credential(query_id))
                ),
            )
            for query_id, item in presented
        ]
        verdict = _combine(results, query)
        if not verdict.valid:
            return verdict, False
        with self.node.store.transaction():
            verdict = self._accept(verdict, row.nonce, row.client_id)
            if not verdict.valid:
                return verdict, False
            joined = "\n".join(item for _q, item in presented)
            receipt, receipt_id = self._receipt(verdict, joined, row.nonce, row.client_id)
            if not self.node.store.complete_verifier_request(
                row.id, self._seal_claims(row.id, verdict.to_json()), receipt_id,
                self.node.now()
            ):
                raise VerifierRequestAnswered("this request was already answered")
            self.node.store.add_verification_receipt(
                receipt_id,
                request_id=row.id,
                api_key_id=row.api_key_id,
                valid=True,
                receipt=receipt,
                now=self.node.now(),
            )
        return verdict, True


def _combine(results: list[tuple[str, Verdict]], query: dcql.DcqlQuery) -> Verdict:
    """One verdict for a vp_token: every presentation's checks (prefixed with its query id when
    there are several), then whether the query as a whole is satisfied."""
    several = len(results) > 1
    checks: list[Check] = []
    for query_id, verdict in results:
        for check in verdict.checks:
            checks.append(replace(check, name=f"{query_id}.{check.name}") if several else check)
    satisfied = {query_id for query_id, verdict in results if verdict.valid}
    problems = dcql.unsatisfied_sets(query, satisfied)
    checks.append(
        Check(
            "credential_sets",
            not problems,
            "ok" if not problems else "dcql_not_satisfied",
            "; ".join(problems),
        )
    )
    valid = all(c.ok for c in checks)
    first = results[0][1] if results else None
    claims: dict[str, Any] | None = None
    if valid and results:
        claims = (
            first.claims if not several and first is not None else {q: v.claims for q, v in results}
        )
    return Verdict(
        valid,
        tuple(checks),
        claims,
        first.issuer if first else None,
        first.credential_type if first else None,
    )
