"""OpenID for Verifiable Credential Issuance 1.0, pre-authorized code flow.

The broker creates an offer for an approved application (§4.1.1: by value, as JSON, as an
``openid-credential-offer://`` URI and as a QR code), optionally with a transaction code sent to
the client another way. The wallet exchanges the pre-authorized code at the token endpoint
(§6: single use, short-lived, ``tx_code`` rules of §6.1/§6.3), fetches a ``c_nonce`` (§7), and
asks the credential endpoint (§8) with a key proof JWT (App. F.1: ``typ openid4vci-proof+jwt``,
``aud`` = this issuer, ``nonce`` = a current c_nonce, used once); the proof's key becomes ``cnf``.

The credential issuer identifier is the node's public URL; the node is its own authorization
server. Codes, transaction codes, access tokens and nonces are kept as SHA-256 hashes only.
Errors carry the spec's names in ``oauth_error``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import segno

import errors
from credentials import jose
from identity.did import parse_did_url
from identity.encoding import b64url_decode, b64url_encode
from identity.keys import Algorithm, PublicKey
from node.dids import resolve_key
from node.issuance import CLAIMS, CONFIGURATIONS, DEFAULT_CONFIGURATION
from storage.issuance import OfferRow, TokenRow

if TYPE_CHECKING:
    from node.issuance import IssuanceService

__all__ = ["PRE_AUTHORIZED_GRANT", "PROOF_TYP", "Oid4vciService"]

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
PROOF_TYP = "openid4vci-proof+jwt"
OFFER_SCHEME = "openid-credential-offer://"
PROOF_MAX_AGE = 300  # seconds a key proof's iat may lie in the past
PROOF_LEEWAY = 60  # and in the future (clock skew)
PROOF_ALGS = (Algorithm.ES256, Algorithm.EDDSA, Algorithm.ED25519)
# Batch issuance (§8.2, §12.2.4): up to this many key proofs per credential request, one
# credential per key. 10 is also the smallest batch the Swiss issuance profile accepts.
BATCH_SIZE = 10
_NONCE_TAG_BYTES = 16
_NONCE_BYTES = 8 + 16 + _NONCE_TAG_BYTES  # expiry, randomness, MAC


# --- errors (OpenID4VCI §6.3 token errors, §8.3.1.2 credential errors, RFC 6750) ---------------


class Oid4vciError(errors.InvalidInput):
    """An error of the OpenID4VCI / OAuth endpoints; ``oauth_error`` is the spec's name."""

    code = "oid4vci_error"
    oauth_error = "invalid_request"


class InvalidRequest(Oid4vciError):
    code = "invalid_request"
    oauth_error = "invalid_request"


class InvalidGrant(Oid4vciError):
    code = "invalid_grant"
    oauth_error = "invalid_grant"


class UnsupportedGrantType(Oid4vciError):
    code = "unsupported_grant_type"
    oauth_error = "unsupported_grant_type"


class InvalidToken(errors.Unauthorized):
    code = "invalid_token"
    oauth_error = "invalid_token"


class InvalidCredentialRequest(Oid4vciError):
    code = "invalid_credential_request"
    oauth_error = "invalid_credential_request"


class UnknownCredentialConfiguration(Oid4vciError):
    code = "unknown_credential_configuration"
    oauth_error = "unknown_credential_configuration"


class UnknownCredentialIdentifier(Oid4vciError):
    code = "unknown_credential_identifier"
    oauth_error = "unknown_credential_identifier"


class InvalidKeyProof(Oid4vciError):
    """``invalid_proof`` in the spec (the code name is taken by Data Integrity proofs)."""

    code = "invalid_key_proof"
    oauth_error = "invalid_proof"


class InvalidNonce(Oid4vciError):
    code = "invalid_nonce"
    oauth_error = "invalid_nonce"


class CredentialRequestDenied(Oid4vciError):
    code = "credential_request_denied"
    oauth_error = "credential_request_denied"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _single(form: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = form.get(name) or []
    if len(values) > 1:  # RFC 6749 §3.2: parameters must not be repeated
        raise InvalidRequest(f"parameter {name!r} is repeated")
    return values[0] if values else None


class Oid4vciService:
    def __init__(self, issuance: IssuanceService) -> None:
        self.issuance = issuance
        self.node = issuance.node

    @property
    def settings(self) -> Any:
        return self.issuance.settings

    # --- identifiers and metadata ---------------------------------------------------------------

    @property
    def issuer(self) -> str:
        return self.node.config.public_url

    def endpoint(self, name: str) -> str:
        return f"{self.issuer}/oid4vci/{name}"

    def issuer_metadata(self) -> dict[str, Any]:
        """Credential Issuer Metadata (§12.2)."""
        configurations = {}
        for configuration in CONFIGURATIONS.values():
            entry: dict[str, Any] = {
                "format": configuration.oid4vci_format,
                "scope": configuration.id,
                "cryptographic_binding_methods_supported": ["jwk"],
                "credential_signing_alg_values_supported": [configuration.alg],
                "proof_types_supported": {
                    "jwt": {"proof_signing_alg_values_supported": [str(a) for a in PROOF_ALGS]}
                },
                "credential_metadata": {
                    "display": [
                        {
                            "name": "KYC credential",
                            "locale": "en-US",
                            "description": "Verified identity (know your customer)",
                        }
                    ],
                    "claims": [
                        {
                            "path": ["credentialSubject", name]
                            if configuration.format == "vc+jwt"
                            else [name],
                            "display": [{"name": label, "locale": "en-US"}],
                        }
                        for name, label in CLAIMS
                    ],
                },
            }
            if configuration.format == "dc+sd-jwt":
                entry["vct"] = self.issuance.vct
            else:
                entry["credential_definition"] = {"type": ["VerifiableCredential", "KycCredential"]}
            configurations[configuration.id] = entry
        return {
            "credential_issuer": self.issuer,
            "credential_endpoint": self.endpoint("credential"),
            "nonce_endpoint": self.endpoint("nonce"),
            "batch_credential_issuance": {"batch_size": BATCH_SIZE},
            "display": [{"name": self.node.institution.name, "locale": "en-US"}],
            "credential_configurations_supported": configurations,
        }

    def authorization_server_metadata(self) -> dict[str, Any]:
        """OAuth 2.0 Authorization Server Metadata (RFC 8414) for the pre-authorized flow."""
        return {
            "issuer": self.issuer,
            "token_endpoint": self.endpoint("token"),
            "response_types_supported": [],
            "grant_types_supported": [PRE_AUTHORIZED_GRANT],
            "token_endpoint_auth_methods_supported": ["none"],
            "pre-authorized_grant_anonymous_access_supported": True,
        }

    # --- offers (broker) ------------------------------------------------------------------------

    def create_offer(
        self,
        application_id: str,
        *,
        broker_key_id: int,
        actor: str,
        configuration_ids: Sequence[str] | None = None,
        tx_code: Mapping[str, Any] | None = None,
        qr: bool = True,
    ) -> dict[str, Any]:
        """A credential offer for an approved application of this broker. The pre-authorized
        code (and the transaction code, if asked for) appear in this answer only."""
        self.node.kyc.get(application_id, broker_key_id=broker_key_id)  # owner only, else 404
        self.node.kyc.approved_claims(application_id)  # approved and unrestricted, else 409
        ids = list(dict.fromkeys(configuration_ids or [DEFAULT_CONFIGURATION]))
        unknown = [i for i in ids if i not in CONFIGURATIONS]
        if unknown:
            raise errors.InvalidValue(
                f"unknown credential configuration {unknown[0]!r}",
                field="credential_configuration_ids",
            )
        code = secrets.token_urlsafe(32)
        grant: dict[str, Any] = {"pre-authorized_code": code}
        tx_value = None
        if tx_code is not None:
            length = int(tx_code.get("length", 6))
            mode = str(tx_code.get("input_mode", "numeric"))
            alphabet = "0123456789" if mode == "numeric" else "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
            tx_value = "".join(secrets.choice(alphabet) for _ in range(length))
            description = (
                {"description": tx_code["description"]} if "description" in tx_code else {}
            )
            grant["tx_code"] = {"input_mode": mode, "length": length, **description}
        offer = {
            "credential_issuer": self.issuer,
            "credential_configuration_ids": ids,
            "grants": {PRE_AUTHORIZED_GRANT: grant},
        }
        now = self.node.unix_now()
        row = OfferRow(
            id="offer_" + secrets.token_urlsafe(12),
            application_id=application_id,
            broker_key_id=broker_key_id,
            code_hash=_hash(code),
            tx_code_hash=_hash(tx_value) if tx_value is not None else None,
            configuration_ids=ids,
            created_at=self.node.now(),
            expires_at=now + self.settings.offer_lifetime,
            redeemed_at=None,
            failed_attempts=0,
        )
        with self.node.store.transaction():
            self.node.store.add_offer(row)
            self.issuance._audit(
                actor,
                "credential.offered",
                row.id,
                {
                    "application_id": application_id,
                    "configurations": ids,
                    "tx_code": tx_value is not None,
                },
            )
        offer_json = json.dumps(offer, separators=(",", ":"))
        uri = OFFER_SCHEME + "?credential_offer=" + quote(offer_json, safe="")
        result: dict[str, Any] = {
            "offer_id": row.id,
            "application_id": application_id,
            "credential_offer": offer,
            "credential_offer_uri": uri,
            "expires_at": datetime.fromtimestamp(row.expires_at, UTC)
            .isoformat()
            .replace("+00:00", "Z"),
        }
        if qr:
            result["qr"] = _qr(uri)
        if tx_value is not None:
            result["tx_code"] = tx_value
        return result

    # --- token endpoint (§6) --------------------------------------------------------------------

    def token(self, form: Mapping[str, Sequence[str]]) -> dict[str, Any]:
        grant_type = _single(form, "grant_type")
        if grant_type is None:
            raise InvalidRequest("grant_type is required")
        if grant_type != PRE_AUTHORIZED_GRANT:
            raise UnsupportedGrantType(f"grant_type must be {PRE_AUTHORIZED_GRANT}")
        code = _single(form, "pre-authorized_code")
        if not code:
            raise InvalidRequest("pre-authorized_code is required")
        tx_code = _single(form, "tx_code")
        details = _single(form, "authorization_details")
        offer = self.node.store.find_offer(_hash(code))
        now = self.node.unix_now()
        if offer is None or offer.redeemed_at is not None or offer.expires_at <= now:
            raise InvalidGrant("the pre-authorized code is invalid, expired or already used")
        if offer.tx_code_hash is None:
            if tx_code is not None:
                raise InvalidRequest("this offer has no transaction code; do not send tx_code")
        elif tx_code is None:
            raise InvalidRequest("this offer requires tx_code")
        elif not hmac.compare_digest(_hash(tx_code), offer.tx_code_hash):
            self._failed_tx_code(offer)
            raise InvalidGrant("the transaction code is wrong")
        authorization_details = self._authorization_details(details, offer)
        access_token = secrets.token_urlsafe(32)
        with self.node.store.transaction():
            if not self.node.store.redeem_offer(offer.id, self.node.now()):
                raise InvalidGrant("the pre-authorized code was already used")
            self.node.store.purge_oid4vci(now)
            self.node.store.add_access_token(
                TokenRow(
                    token_hash=_hash(access_token),
                    offer_id=offer.id,
                    expires_at=now + self.settings.access_token_lifetime,
                    issued=[],
                )
            )
        body: dict[str, Any] = {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": self.settings.access_token_lifetime,
        }
        if authorization_details is not None:
            body["authorization_details"] = authorization_details
        return body

    def _failed_tx_code(self, offer: OfferRow) -> None:
        """Count a wrong transaction code; the offer is burnt after too many (brute force)."""
        with self.node.store.transaction():
            attempts = self.node.store.count_failed_offer_attempt(offer.id)
            if attempts >= self.settings.max_tx_code_attempts:
                self.node.store.redeem_offer(offer.id, self.node.now())

    @staticmethod
    def _authorization_details(raw: str | None, offer: OfferRow) -> list[dict[str, Any]] | None:
        """RFC 9396 ``authorization_details`` of type ``openid_credential`` (§5.1.1): each must
        name an offered configuration; the answer names one credential identifier per
        configuration (the configuration id itself)."""
        if raw is None:
            return None
        try:
            details = json.loads(raw)
        except ValueError as exc:
            raise InvalidRequest("authorization_details is not JSON") from exc
        if not isinstance(details, list) or not details:
            raise InvalidRequest("authorization_details must be a non-empty array")
        answer = []
        for item in details:
            if not isinstance(item, dict) or item.get("type") != "openid_credential":
                raise InvalidRequest("authorization_details entries must be openid_credential")
            configuration = item.get("credential_configuration_id")
            if configuration not in offer.configuration_ids:
                raise InvalidRequest("authorization_details names a configuration not offered")
            answer.append(
                {
                    "type": "openid_credential",
                    "credential_configuration_id": configuration,
                    "credential_identifiers": [configuration],
                }
            )
        return answer

    # --- nonce endpoint (§7) --------------------------------------------------------------------

    # A c_nonce is self-contained: its expiry, 16 random bytes and a MAC under a key derived
    # from the master key. Handing one out writes nothing (no commit, no fsync); using one
    # records its hash in the credential request's own transaction, so each is used once.

    @cached_property
    def _nonce_key(self) -> bytes:
        return self.node.sealer.derive_key(b"oid4vci c_nonce v1")

    def nonce(self) -> str:
        expires_at = self.node.unix_now() + self.settings.nonce_lifetime
        body = expires_at.to_bytes(8, "big") + secrets.token_bytes(16)
        tag = hmac.new(self._nonce_key, body, hashlib.sha256).digest()[:_NONCE_TAG_BYTES]
        return b64url_encode(body + tag)

    def nonce_expiry(self, nonce: str) -> int:
        """When a c_nonce this issuer made expires; ``InvalidNonce`` if it is not one of ours
        or has expired (whether it was used is the store's to say)."""
        try:
            raw = b64url_decode(nonce)
        except errors.Error as exc:
            raise InvalidNonce("the c_nonce is not one this issuer made") from exc
        body, tag = raw[:-_NONCE_TAG_BYTES], raw[-_NONCE_TAG_BYTES:]
        expected = hmac.new(self._nonce_key, body, hashlib.sha256).digest()[:_NONCE_TAG_BYTES]
        if len(raw) != _NONCE_BYTES or not hmac.compare_digest(tag, expected):
            raise InvalidNonce("the c_nonce is not one this issuer made")
        expires_at = int.from_bytes(body[:8], "big")
        if expires_at <= self.node.unix_now():
            raise InvalidNonce("the c_nonce has expired: ask the nonce endpoint for a fresh one")
        return expires_at

    # --- credential endpoint (§8) ---------------------------------------------------------------

    def access(self, authorization: str | None) -> tuple[TokenRow, OfferRow]:
        if not authorization:
            raise InvalidToken("an access token is required: Authorization: Bearer <token>")
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise InvalidToken("use the Bearer scheme")
        token = self.node.store.find_access_token(_hash(value.strip()))
        if token is None or token.expires_at <= self.node.unix_now():
            raise InvalidToken("the access token is invalid or expired")
        offer = self.node.store.get_offer(token.offer_id)
        if offer is None:
            raise InvalidToken("the access token is invalid")
        return token, offer

    def credential(
        self,
        authorization: str | None,
        body: Mapping[str, Any],
        *,
        access: tuple[TokenRow, OfferRow] | None = None,
    ) -> dict[str, Any]:
        """The credential endpoint. ``access`` is what ``access(authorization)`` returned, when
        the caller checked the token already (before reading the body); the token is read again
        inside the issuing transaction either way."""
        token, offer = access if access is not None else self.access(authorization)
        identifier = body.get("credential_identifier")
        configuration_id = body.get("credential_configuration_id")
        if (identifier is None) == (configuration_id is None):
            raise InvalidCredentialRequest(
                "send exactly one of credential_identifier and credential_configuration_id"
            )
        if identifier is not None:
            if identifier not in offer.configuration_ids:
                raise UnknownCredentialIdentifier(f"unknown credential_identifier {identifier!r}")
            configuration_id = identifier
        elif configuration_id not in offer.configuration_ids:
            raise UnknownCredentialConfiguration(
                f"credential configuration {configuration_id!r} was not offered"
            )
        if configuration_id in token.issued:
            raise InvalidCredentialRequest("this credential was already issued for this token")
        proofs = body.get("proofs")
        if not isinstance(proofs, dict) or set(proofs) != {"jwt"}:
            raise InvalidKeyProof("proofs must hold exactly the jwt proof type")
        jwts = proofs["jwt"]
        if (
            not isinstance(jwts, list)
            or not 1 <= len(jwts) <= BATCH_SIZE
            or not all(isinstance(jwt, str) for jwt in jwts)
        ):
            raise InvalidKeyProof(f"send 1 to {BATCH_SIZE} jwt key proofs (batch_size)")
        checked = [self.verify_proof(jwt) for jwt in jwts]
        nonce = checked[0][1]
        if any(other != nonce for _key, other in checked):
            raise InvalidNonce("every key proof of a request must carry the same c_nonce")
        holder_keys = [key for key, _nonce in checked]
        if len({key.thumbprint() for key in holder_keys}) != len(holder_keys):
            raise InvalidKeyProof("each key proof must be for a different key")
        token_hash = token.token_hash
        expires_at = self.nonce_expiry(nonce)
        # Read (and decrypt) what the credentials will say before taking the writer lock.
        refused: errors.Error | None = None
        draft = None
        try:
            draft = self.issuance.prepare(
                offer.application_id, str(configuration_id), holder_keys
            )
        except errors.Error as exc:
            refused = exc
        # One transaction, one fsync: the nonce is consumed, then the credentials' rows are
        # stored in a nested savepoint. A refused issuance rolls back only the savepoint, so
        # the nonce stays used whatever happens to the request.
        recorded = None
        with self.node.store.transaction():
            if not self.node.store.use_nonce(_hash(nonce), expires_at, self.node.unix_now()):
                raise InvalidNonce("the c_nonce was already used")
            if draft is not None:
                try:
                    with self.node.store.transaction():
                        recorded = self.issuance.record(draft, actor="oid4vci")
                        current = self.node.store.find_access_token(token_hash)
                        if current is None or configuration_id in current.issued:
                            raise InvalidCredentialRequest(
                                "this credential was already issued for this token"
                            )
                        self.node.store.mark_token_issued(
                            token_hash, [*current.issued, configuration_id]
                        )
                except errors.Error as exc:
                    refused, recorded = exc, None
        if recorded is None:  # refused: refused is set
            if isinstance(refused, errors.Conflict | errors.NotFound):
                raise CredentialRequestDenied(
                    "the credential cannot be issued: the client is no longer approved"
                ) from refused
            raise refused or CredentialRequestDenied("the credential cannot be issued")
        # Signed after the commit, outside the writer lock.
        issued = self.issuance.sign(recorded)
        self.issuance.status.publish_pending()  # a new status group's first publication
        return {"credentials": [{"credential": item.credential} for item in issued]}

    def verify_proof(self, proof: str) -> tuple[PublicKey, str]:
        """Check a key proof (App. F.1, F.4) and return its key and nonce. Everything is checked
        except the nonce's freshness, which the caller consumes."""
        try:
            decoded = jose.decode_unverified(proof)
        except errors.Error as exc:
            raise InvalidKeyProof(f"the key proof is not a JWS: {exc.message}") from exc
        header = decoded[0]
        if header.get("typ") != PROOF_TYP:
            raise InvalidKeyProof(f"the key proof's typ must be {PROOF_TYP}")
        carriers = [name for name in ("kid", "jwk", "x5c") if name in header]
        if len(carriers) != 1:
            raise InvalidKeyProof("the key proof must carry exactly one of kid, jwk, x5c")
        try:
            # The token is decoded once; verify_decoded runs every header rule (alg allowed
            # and fitting the key, no crit, typ) before the signature.
            if carriers[0] == "jwk":
                if not isinstance(header["jwk"], dict):
                    raise InvalidKeyProof("jwk must be an object")
                key = PublicKey.from_jwk(header["jwk"])  # refuses small-order keys
            elif carriers[0] == "kid":
                key = self._kid_key(header["kid"])
            else:
                raise InvalidKeyProof("x5c key proofs are not supported; use jwk or a did kid")
            _, payload = jose.verify_decoded(
                decoded, key, expected_typ=PROOF_TYP, allowed_algs=PROOF_ALGS
            )
            claims = jose.claims_of(payload)
        except InvalidKeyProof:
            raise
        except errors.Error as exc:
            raise InvalidKeyProof(f"the key proof does not verify: {exc.message}") from exc
        if claims.get("aud") != self.issuer:
            raise InvalidKeyProof(f"the key proof's aud must be {self.issuer}")
        iat = claims.get("iat")
        now = self.node.unix_now()
        if isinstance(iat, bool) or not isinstance(iat, int | float):
            raise InvalidKeyProof("the key proof needs a numeric iat")
        if not now - PROOF_MAX_AGE <= iat <= now + PROOF_LEEWAY:
            raise InvalidKeyProof("the key proof's iat is too old or in the future")
        nonce = claims.get("nonce")
        if not isinstance(nonce, str) or not nonce:
            raise InvalidKeyProof("the key proof must carry the c_nonce")
        return key, nonce

    def _kid_key(self, kid: Any) -> PublicKey:
        """A ``kid`` naming a did:key or did:jwk key (keys that cannot change)."""
        if not isinstance(kid, str):
            raise InvalidKeyProof("kid must be a DID URL")
        try:
            method = parse_did_url(kid).did.method
        except errors.Error as exc:
            raise InvalidKeyProof("kid must be a DID URL") from exc
        if method not in ("key", "jwk"):
            raise InvalidKeyProof("kid must name a did:key or did:jwk key; or send a jwk")
        return resolve_key(self.node, kid, self.node.clock())


def _qr(uri: str) -> dict[str, str]:
    """The offer URI as a QR code, SVG text and PNG data URI (segno, error correction M)."""
    code = segno.make(uri, error="m", micro=False)
    svg = io.BytesIO()
    code.save(svg, kind="svg", scale=4, border=4, xmldecl=False)
    png = io.BytesIO()
    code.save(png, kind="png", scale=4, border=4)
    return {
        "svg": svg.getvalue().decode("utf-8"),
        "png": "data:image/png;base64," + base64.b64encode(png.getvalue()).decode("ascii"),
    }
