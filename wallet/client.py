"""The wallet's network code, and the only network code in the wallet: OpenID4VCI to receive a
credential, OpenID4VP to present one, and DID resolution with registry evidence to check an issuer.

Transport rules: ``https`` everywhere, except plain ``http`` to a loopback address (``localhost``,
``127.0.0.0/8``, ``::1``) for development and the end-to-end tests. No redirects are followed;
every request has a timeout; answers larger than ``MAX_RESPONSE_BYTES`` are refused. Standard
library only (``urllib.request``).

How an issuer is checked before a credential is stored, and a verifier before its signed
request is read (``DidKeys``):

1. the issuer node's DID resolution (``GET /1.0/identifiers/<did>``) and the DID's did:webvh log
   as anchored in its registry (``GET /registry/dids/<did>``);
2. the did:webvh log is verified (self-certifying id, hash chain, update-key proofs) and the key
   named by the credential's ``kid`` must be an ``assertionMethod`` of the version in force at the
   credential's ``iat`` (``identity.did_webvh.key_valid_at``);
3. the resolution metadata's registry evidence: the checkpoint note must be signed by the
   registry's log key (pinned in the wallet the first time that registry is seen, refused if it
   changes later), its size and root must be the evidence's, the inclusion proof must lead from
   the entry's leaf hash to that root, and the entry itself (fetched, hashed again) must be the
   ``did.entry`` of this DID carrying the log's latest line. The log is hash-chained, so that line
   commits to every version before it.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from credentials import jose
from errors import Error
from identity import did_webvh
from identity.did import parse_did_url
from identity.keys import PublicKey
from registry import merkle
from registry.checkpoint import open_checkpoint
from registry.entries import EntryType, canonical, parse_entry
from registry.note import Ed25519Verifier
from wallet import holder
from wallet.errors import (
    ConsentRefused,
    CredentialRejected,
    IssuerUnreachable,
    OfferExpired,
    ProtocolError,
    RegistryEvidenceInvalid,
    RemoteError,
    UnsafeUrl,
    WalletError,
)
from wallet.holder import CredentialRecord, PresentationRequest
from wallet.store import Wallet

__all__ = [
    "MAX_RESPONSE_BYTES",
    "TIMEOUT",
    "DidKeys",
    "Http",
    "Response",
    "check_url",
    "fetch_presentation_request",
    "present",
    "receive",
    "well_known_url",
]

TIMEOUT: Final = 10.0
MAX_RESPONSE_BYTES: Final = 2 * 1024 * 1024
_USER_AGENT: Final = "kyc-wallet/1"

Consent = Callable[[dict[str, Any]], bool]


# --- transport -----------------------------------------------------------------------------------


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: object) -> str:
    """``url`` if the wallet may talk to it: https, or http to loopback (development only)."""
    if not isinstance(url, str) or len(url) > 8192:
        raise UnsafeUrl("expected a URL string")
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host or parts.username is not None or parts.password is not None or parts.fragment:
        raise UnsafeUrl(f"refusing URL {url!r}: no host, credentials or a fragment")
    if parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(host)):
        return url
    raise UnsafeUrl(f"refusing {url!r}: https only (plain http only to a loopback address)")


def well_known_url(identifier: str, name: str) -> str:
    """``/.well-known/<name>`` inserted between host and path (RFC 8414 §3.1, OID4VCI §12.2.2)."""
    parts = urlsplit(check_url(identifier))
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, f"/.well-known/{name}{path}", "", ""))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None  # a 3xx then surfaces as an HTTPError: never follow one silently


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    content_type: str
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ProtocolError("the answer is not JSON") from exc

    def error(self, what: str) -> RemoteError:
        """The OAuth-style error in a non-2xx answer (``error``, ``error_description``)."""
        code = description = None
        try:
            body = json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            body = None
        if isinstance(body, dict):
            code = body.get("error") if isinstance(body.get("error"), str) else None
            text = body.get("error_description") or body.get("message")
            description = text if isinstance(text, str) else None
        detail = f"{code}: {description}" if code and description else code or description
        return RemoteError(
            f"{what} failed (HTTP {self.status}{': ' + detail if detail else ''})",
            status=self.status,
            remote_code=code,
        )


class Http:
    """A small HTTP client with the wallet's rules (see the module docstring)."""

    def __init__(self, *, timeout: float = TIMEOUT, max_bytes: int = MAX_RESPONSE_BYTES) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self._opener = urllib.request.build_opener(_NoRedirects())

    def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        check_url(url)
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
            url, data=body, method=method, headers={"User-Agent": _USER_AGENT, **(headers or {})}
        )
        host = urlsplit(url).netloc
        try:
            with self._opener.open(request, timeout=self.timeout) as answer:
                return Response(
                    answer.status, answer.headers.get_content_type(), self._read(answer)
                )
        except urllib.error.HTTPError as error:
            with error:
                return Response(error.code, error.headers.get_content_type(), self._read(error))
        except urllib.error.URLError as error:
            reason = getattr(error.reason, "strerror", None) or str(error.reason)
            raise IssuerUnreachable(f"cannot reach {host}: {reason}") from None
        except (TimeoutError, ConnectionError, OSError) as error:
            raise IssuerUnreachable(f"cannot reach {host}: {error}") from None

    def _read(self, answer: Any) -> bytes:
        data: bytes = answer.read(self.max_bytes + 1)
        if len(data) > self.max_bytes:
            raise ProtocolError(f"the answer is larger than {self.max_bytes} bytes")
        return data

    def get(self, url: str, *, accept: str = "application/json") -> Response:
        return self.request("GET", url, headers={"Accept": accept})

    def get_json(self, url: str, what: str) -> dict[str, Any]:
        response = self.get(url)
        if response.status != 200:
            raise response.error(what)
        body = response.json()
        if not isinstance(body, dict):
            raise ProtocolError(f"{what}: the answer is not a JSON object")
        return body

    def post_form(
        self, url: str, fields: Mapping[str, str], headers: Mapping[str, str] | None = None
    ) -> Response:
        return self.request(
            "POST",
            url,
            body=urlencode(fields).encode("ascii"),
            headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
        )

    def post_json(self, url: str, value: Any, headers: Mapping[str, str] | None = None) -> Response:
        return self.request(
            "POST",
            url,
            body=json.dumps(value).encode("utf-8"),
            headers={"Content-Type": "application/json", **(headers or {})},
        )


# --- the issuer's key, checked against the registry ---------------------------------------------


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise RegistryEvidenceInvalid(f"registry evidence {what} is missing")
    try:
        return base64.b64decode(value, validate=True)
    except ValueError as exc:
        raise RegistryEvidenceInvalid(f"registry evidence {what} is not base64") from exc


class DidKeys:
    """Keys of registry-anchored did:webvh DIDs, read from the node at ``node_url`` and checked
    as the module docstring says. ``trusted_logs`` (origin -> log vkey) is the wallet's pin set;
    it is updated the first time a registry is met (trust on first use).

    An instance is an ``IssuerKeyResolver`` for ``sd_jwt.verify`` (the issuer's ``kid`` in force
    at the credential's ``iat``, under ``assertionMethod``)."""

    def __init__(self, http: Http, node_url: str, trusted_logs: MutableMapping[str, str]) -> None:
        self.http = http
        self.node_url = _origin(check_url(node_url))
        self.trusted_logs = trusted_logs

    def __call__(self, header: dict[str, Any], claims: dict[str, Any]) -> PublicKey:
        issuer, kid, iat = claims.get("iss"), header.get("kid"), claims.get("iat")
        if not isinstance(issuer, str) or not issuer.startswith("did:webvh:"):
            raise CredentialRejected("the credential's issuer is not a did:webvh DID")
        if not isinstance(kid, str) or str(parse_did_url(kid).did) != issuer:
            raise CredentialRejected("the credential's kid is not a key of its issuer's DID")
        if isinstance(iat, bool) or not isinstance(iat, int | float):
            raise CredentialRejected("the credential has no iat")
        return self.key(kid, iat, relationship="assertionMethod")

    def key(self, kid: str, at: float, *, relationship: str | None) -> PublicKey:
        """The key ``kid`` (a did:webvh DID URL) names, as in force at ``at``."""
        did = str(parse_did_url(kid).did)
        if not did.startswith("did:webvh:"):
            raise CredentialRejected(f"{did} is not a did:webvh DID")
        quoted = quote(did, safe=":%")  # DID syntax is already path-safe
        # (1) the node's resolution (with registry evidence) and the DID log it anchored
        resolution = self.http.get_json(
            f"{self.node_url}/1.0/identifiers/{quoted}", f"resolving {did}"
        )
        log = self.http.get(f"{self.node_url}/registry/dids/{quoted}", accept="text/jsonl")
        if log.status != 200:
            raise log.error(f"fetching the DID log of {did}")
        lines = [line for line in log.body.decode("utf-8").splitlines() if line.strip()]
        if not lines:
            raise CredentialRejected(f"the DID log of {did} is empty")
        # (2) the did:webvh log verifies and kid was a verification method at ``at``
        key = did_webvh.key_valid_at(
            lines, kid, datetime.fromtimestamp(at, UTC), relationship=relationship
        )
        # (3) the log's latest line is in the registry under a checkpoint we trust
        metadata = resolution.get("didDocumentMetadata")
        evidence = metadata.get("registry") if isinstance(metadata, dict) else None
        if not isinstance(evidence, dict):
            raise RegistryEvidenceInvalid("the DID resolution carries no registry evidence")
        self._check_evidence(evidence, did, json.loads(lines[-1]))
        return key

    def _log_verifier(self, origin: str) -> Ed25519Verifier:
        vkey = self.trusted_logs.get(origin)
        if vkey is None:
            policy = self.http.get_json(f"{self.node_url}/registry/policy", "reading the registry")
            if policy.get("origin") != origin or not isinstance(policy.get("log_vkey"), str):
                raise RegistryEvidenceInvalid("the registry policy is not that of the evidence")
            vkey = policy["log_vkey"]
            Ed25519Verifier.from_vkey(vkey)  # refuse a malformed key before pinning it
            self.trusted_logs[origin] = vkey  # trust on first use; saved with the wallet
        return Ed25519Verifier.from_vkey(vkey)

    def _check_evidence(self, evidence: dict[str, Any], did: str, latest: Any) -> None:
        origin, index, size = (
            evidence.get("origin"),
            evidence.get("index"),
            evidence.get("tree_size"),
        )
        note = evidence.get("checkpoint")
        if not isinstance(origin, str) or not isinstance(note, str):
            raise RegistryEvidenceInvalid("registry evidence has no origin or checkpoint")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (index, size)):
            raise RegistryEvidenceInvalid("registry evidence index and size must be integers")
        assert isinstance(index, int) and isinstance(size, int)  # noqa: S101 - narrowing only
        leaf = _b64(evidence.get("leaf_hash"), "leaf_hash")
        root = _b64(evidence.get("root_hash"), "root_hash")
        proof_raw = evidence.get("inclusion_proof")
        if not isinstance(proof_raw, list):
            raise RegistryEvidenceInvalid("registry evidence has no inclusion proof")
        proof = [_b64(h, "inclusion_proof") for h in proof_raw]
        try:
            signed = open_checkpoint(
                note.encode("utf-8"), [self._log_verifier(origin)], origin=origin
            )
        except Error as exc:
            raise RegistryEvidenceInvalid(
                f"the registry checkpoint is not signed by the pinned log key: {exc}"
            ) from exc
        if signed.checkpoint.size != size or signed.checkpoint.root_hash != root:
            raise RegistryEvidenceInvalid("the evidence's tree head is not the checkpoint's")
        try:
            merkle.verify_inclusion(leaf, index, size, proof, root)
        except Error as exc:
            raise RegistryEvidenceInvalid(f"the inclusion proof fails: {exc}") from exc
        answer = self.http.get_json(f"{self.node_url}/registry/entries/{index}", "registry entry")
        try:
            data = canonical(answer.get("entry"))
            entry = parse_entry(data, expected_log=origin)
        except Error as exc:
            raise RegistryEvidenceInvalid(f"the registry entry is malformed: {exc}") from exc
        if merkle.leaf_hash(data) != leaf:
            raise RegistryEvidenceInvalid("the registry entry does not hash to the proven leaf")
        if entry.type is not EntryType.DID_ENTRY or entry.subject != did:
            raise RegistryEvidenceInvalid("the proven registry entry is not this DID's")
        if entry.payload.get("log_entry") != latest:
            raise RegistryEvidenceInvalid("the DID log's latest line is not the anchored one")


# --- OpenID4VCI: receive -------------------------------------------------------------------------


def _fetch_offer(http: Http, offer_uri: str) -> holder.CredentialOffer:
    parsed = holder.parse_offer_uri(offer_uri)
    if isinstance(parsed, holder.CredentialOffer):
        return parsed
    response = http.get(check_url(parsed))
    if response.status in (404, 410):
        raise OfferExpired(
            "the credential offer has expired or was withdrawn",
            status=response.status,
            remote_code=None,
        )
    if response.status != 200:
        raise response.error("fetching the credential offer")
    body = response.json()
    if not isinstance(body, dict):
        raise ProtocolError("the credential offer is not a JSON object")
    return holder.parse_credential_offer(body)


def _string(document: Mapping[str, Any], name: str, what: str) -> str:
    value = document.get(name)
    if not isinstance(value, str) or not value:
        raise ProtocolError(f"{what} has no {name}")
    return value


def receive(
    offer_uri: str,
    wallet: Wallet,
    tx_code: str | None = None,
    *,
    ask_tx_code: Callable[[dict[str, Any]], str] | None = None,
    http: Http | None = None,
    now: Callable[[], float] = time.time,
) -> CredentialRecord:
    """Receive a credential through the OpenID4VCI pre-authorized code flow, check it and store
    it in ``wallet`` (saved). ``ask_tx_code(tx_code_object)`` is called if the offer needs a
    transaction code and none was given."""
    http = http or Http()
    offer = _fetch_offer(http, offer_uri)
    issuer = check_url(offer.credential_issuer)

    # Issuer and authorization server metadata (OID4VCI §12.2, RFC 8414)
    metadata = http.get_json(well_known_url(issuer, "openid-credential-issuer"), "issuer metadata")
    if metadata.get("credential_issuer") != issuer:
        raise ProtocolError("the issuer metadata names another credential_issuer")
    credential_endpoint = check_url(_string(metadata, "credential_endpoint", "issuer metadata"))
    nonce_endpoint = metadata.get("nonce_endpoint")
    configurations = metadata.get("credential_configurations_supported")
    configuration_id = offer.configuration_ids[0]
    configuration = (
        configurations.get(configuration_id) if isinstance(configurations, dict) else None
    )
    if not isinstance(configuration, dict):
        raise ProtocolError(f"the issuer does not describe configuration {configuration_id!r}")
    if configuration.get("format") != holder.SD_JWT_VC_FORMAT:
        raise ProtocolError(f"only {holder.SD_JWT_VC_FORMAT} credentials are supported")
    servers = metadata.get("authorization_servers")
    authorization_server = servers[0] if isinstance(servers, list) and servers else issuer
    as_metadata = http.get_json(
        well_known_url(str(authorization_server), "oauth-authorization-server"),
        "authorization server metadata",
    )
    token_endpoint = check_url(_string(as_metadata, "token_endpoint", "AS metadata"))

    # Token request (§6.1): tx_code iff the offer has a tx_code object
    fields = {
        "grant_type": holder.PRE_AUTHORIZED_GRANT,
        "pre-authorized_code": offer.pre_authorized_code,
    }
    if offer.needs_tx_code:
        if tx_code is None and ask_tx_code is not None:
            tx_code = ask_tx_code(offer.tx_code or {})
        if not tx_code:
            raise ProtocolError("this offer needs a transaction code (tx_code)")
        fields["tx_code"] = tx_code
    response = http.post_form(token_endpoint, fields)
    if response.status != 200:
        error = response.error("the token request")
        if error.remote_code == "invalid_grant":
            raise OfferExpired(
                "the issuer refused the offer: it has expired or was used already"
                + (", or the transaction code is wrong" if offer.needs_tx_code else ""),
                status=error.status,
                remote_code=error.remote_code,
            )
        raise error
    token = response.json()
    access_token = _string(token, "access_token", "the token response")
    request_body: dict[str, Any] = {"credential_configuration_id": configuration_id}
    for detail in token.get("authorization_details") or []:
        identifiers = detail.get("credential_identifiers") if isinstance(detail, dict) else None
        if isinstance(identifiers, list) and identifiers and isinstance(identifiers[0], str):
            request_body = {"credential_identifier": identifiers[0]}
            break

    # Nonce (§7), key proof (App. F.1), credential request (§8); one retry on invalid_nonce
    key = wallet.holder_key()
    auth = {"Authorization": f"Bearer {access_token}"}
    for attempt in range(2):
        c_nonce = None
        if nonce_endpoint is not None:
            answer = http.request("POST", check_url(nonce_endpoint))
            if answer.status != 200:
                raise answer.error("the nonce request")
            nonce_body = answer.json()
            c_nonce = _string(
                nonce_body if isinstance(nonce_body, dict) else {}, "c_nonce", "the nonce response"
            )
        proof = holder.build_proof_jwt(key, credential_issuer=issuer, c_nonce=c_nonce, now=now())
        response = http.post_json(
            credential_endpoint, {**request_body, "proofs": {"jwt": [proof]}}, auth
        )
        if response.status == 200:
            break
        error = response.error("the credential request")
        if error.remote_code != "invalid_nonce" or attempt:
            raise error
    body = response.json()
    issued = body.get("credentials") if isinstance(body, dict) else None
    if not isinstance(issued, list) or len(issued) != 1 or not isinstance(issued[0], dict):
        raise ProtocolError("the credential response must hold exactly one credential")
    credential = issued[0].get("credential")
    if not isinstance(credential, str):
        raise ProtocolError("the credential response holds no SD-JWT VC string")

    # Check before storing: issuer key from the registry, signature, disclosures, holder binding
    resolver = DidKeys(http, issuer, wallet.trusted_logs)
    try:
        record = holder.accept_credential(
            credential,
            resolver,
            holder_key=key.public_key,
            expected_vct=configuration.get("vct"),
            issuer_url=issuer,
            holder_key_id=key.public_key.thumbprint(),
            now=now(),
        )
    except Error as exc:
        raise CredentialRejected(f"the credential does not verify: {exc.message}") from exc
    wallet.add_credential(record)
    wallet.save()
    return record


# --- OpenID4VP: present --------------------------------------------------------------------------


REQUEST_OBJECT_TYP: Final = "oauth-authz-req+jwt"
DID_PREFIX: Final = "decentralized_identifier:"


def _request_object(
    token: str,
    client_id: str,
    *,
    keys: DidKeys | None,
    now: float,
) -> dict[str, Any]:
    """A request object JWT (OpenID4VP §5, RFC 9101), checked by its client_id prefix:

    * ``decentralized_identifier:<did>`` (§5.9.3): signed (``typ: oauth-authz-req+jwt``) by a
      key of that DID, found with ``DidKeys`` at the node that served the request (DID log
      verified, latest version proven in the registry); not expired;
    * ``redirect_uri:<uri>``: cannot be signed; read only unsigned (``alg: none``), and the
      response must then go to that very URI (checked by ``parse_presentation_request``).

    Other prefixes (x509, verifier attestation, federation) are not supported.
    """
    header, payload, _signing_input, signature = jose.decode_unverified(token)
    if client_id.startswith(DID_PREFIX):
        did = client_id.removeprefix(DID_PREFIX)
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid.startswith(did + "#") or keys is None:
            raise ProtocolError("the request object is not signed by a key of the verifier's DID")
        try:
            key = keys.key(kid, now, relationship=None)
            _header, claims = jose.verify_compact(token, key, expected_typ=REQUEST_OBJECT_TYP)
        except (WalletError, Error) as exc:
            message = getattr(exc, "message", str(exc))
            raise ProtocolError(
                f"the verifier's signed request does not verify: {message}"
            ) from exc
        exp = claims.get("exp")
        if isinstance(exp, int | float) and not isinstance(exp, bool) and exp <= now:
            raise ProtocolError("the presentation request has expired")
        return claims
    if not client_id.startswith("redirect_uri:"):
        raise ProtocolError(f"client_id prefix of {client_id!r} is not supported by this wallet")
    if header.get("alg") != "none" or signature:
        raise ProtocolError("a redirect_uri: client cannot sign its request (OpenID4VP §5.9.3)")
    try:
        value = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError("the request object is not JSON") from exc
    if not isinstance(value, dict):
        raise ProtocolError("the request object is not a JSON object")
    return value


def fetch_presentation_request(
    http: Http, uri: str, *, trusted_logs: MutableMapping[str, str], now: float
) -> PresentationRequest:
    """The OpenID4VP request an ``openid4vp://`` URI points to (by value or ``request_uri``),
    authenticated as its client_id prefix requires (see ``_request_object``)."""
    params = holder.parse_vp_uri(uri)
    client_id = params["client_id"]
    keys = None
    if "request_uri" in params:
        method = params.get("request_uri_method", "get")
        if method not in ("get", "post"):
            raise ProtocolError("request_uri_method must be get or post")
        request_uri = check_url(params["request_uri"])
        # The verifier's DID is resolved at the node that serves its request.
        keys = DidKeys(http, request_uri, trusted_logs)
        response = (
            http.post_form(request_uri, {})
            if method == "post"
            else http.get(request_uri, accept="application/oauth-authz-req+jwt, application/json")
        )
        if response.status in (404, 410):
            raise RemoteError(
                "the presentation request has expired or does not exist",
                status=response.status,
                remote_code=None,
            )
        if response.status != 200:
            raise response.error("fetching the presentation request")
        text = response.body.decode("ascii", "replace").strip()
        request = _request_object(text, client_id, keys=keys, now=now)
    elif "request" in params:
        request = _request_object(params["request"], client_id, keys=None, now=now)
    elif client_id.startswith("redirect_uri:"):
        request = dict(params)  # by value, unsigned: only where the client id is the response URI
    else:
        raise ProtocolError("this client_id prefix needs a signed request object")
    return holder.parse_presentation_request(request, expected_client_id=client_id)


def _failed_checks(response: Response) -> str:
    """The failed checks of a verdict in a refusal, as ``name (code), ...`` (empty if none)."""
    try:
        body = json.loads(response.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return ""
    verdict = body.get("verdict") if isinstance(body, dict) else None
    checks = verdict.get("checks") if isinstance(verdict, dict) else None
    if not isinstance(checks, list):
        return ""
    failed = [
        f"{check.get('name')} ({check.get('code')})"
        for check in checks
        if isinstance(check, dict) and check.get("ok") is False
    ]
    return ", ".join(failed)


def present(
    openid4vp_uri: str,
    wallet: Wallet,
    *,
    consent: Consent,
    http: Http | None = None,
    now: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """Answer an OpenID4VP request: fetch it, choose credentials and the claims the DCQL query
    needs, ask ``consent(summary)``, then POST ``vp_token`` (+ ``state``) to ``response_uri``.

    Returns ``{"status": ..., "response": <the verifier's JSON answer or None>, "shared": ...}``.
    If consent is refused the verifier is told ``access_denied`` and ``ConsentRefused`` raised.
    """
    http = http or Http()
    pins = dict(wallet.trusted_logs)
    request = fetch_presentation_request(
        http, openid4vp_uri, trusted_logs=wallet.trusted_logs, now=now()
    )
    if wallet.trusted_logs != pins:
        wallet.save()  # a registry met for the first time stays pinned
    response_uri = check_url(request.response_uri)
    matches = holder.match_dcql(request.dcql, wallet.credentials, now=now())
    shared = holder.describe_matches(matches)
    summary = {"verifier": request.client_id, "response_uri": response_uri, "credentials": shared}
    state = {"state": request.state} if request.state is not None else {}
    if not consent(summary):
        # §8.5: tell the verifier; whatever it answers, the holder said no.
        with contextlib.suppress(IssuerUnreachable, ProtocolError):
            http.post_form(response_uri, {"error": "access_denied", **state})
        raise ConsentRefused("the holder did not consent; nothing was shared")
    vp_token = holder.build_vp_token(request, matches, wallet.holder_key, now=now())
    response = http.post_form(
        response_uri, {"vp_token": json.dumps(vp_token, separators=(",", ":")), **state}
    )
    if not 200 <= response.status < 300:
        error = response.error("the presentation")
        failed = _failed_checks(response)
        if failed:
            error = RemoteError(
                f"the verifier refused the presentation (HTTP {response.status}"
                f"{' ' + error.remote_code if error.remote_code else ''}): {failed}",
                status=error.status,
                remote_code=error.remote_code,
            )
        raise error
    answer = response.json() if response.body.strip() else None
    return {"status": response.status, "response": answer, "shared": shared}
