"""Credential issuance on a node: an approved KYC application becomes an SD-JWT VC
(``dc+sd-jwt``) or a VCDM 2.0 ``vc+jwt``; brokers revoke, suspend and reinstate them; a client
suspended by KYC re-screening has its credentials suspended with it.

Rules and encodings live in ``credentials/`` (pure); the status lists in ``node.issuance_status``;
OpenID4VCI in ``node.issuance_oid4vci``. Nothing here stores a credential or personal data: the
store keeps ids, formats, statuses and status-list positions.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

import errors
from credentials.sd_jwt import SD, issue_sd_jwt_vc
from credentials.vc_jwt import V2_CONTEXT, build_vc_jwt
from identity.keys import PrivateKey, PublicKey
from identity.multikey import multikey_from_public_key
from kyc.checks import age_on
from node.events import Event
from node.issuance_status import IETF, W3C, Allocation, CredentialStatus, StatusLists
from storage import AuditEvent
from storage.issuance import CredentialRow

if TYPE_CHECKING:
    from node import Node
    from node.issuance_oid4vci import Oid4vciService

__all__ = [
    "CONFIGURATIONS",
    "CredentialConfiguration",
    "IssuanceService",
    "IssuanceSettings",
    "IssuedCredential",
    "type_metadata",
]

SD_JWT_VC = "dc+sd-jwt"
VC_JWT = "vc+jwt"
VCT_PATH = "/credential-types/kyc/v1"


# --- errors ---------------------------------------------------------------------------------------


class CredentialNotFound(errors.NotFound):
    code = "credential_not_found"


class CredentialStatusConflict(errors.Conflict):
    """The status change does not apply: a revoked credential, or a no-op."""

    code = "credential_status_conflict"


class ClientNotInGoodStanding(errors.Conflict):
    """A credential cannot be reinstated while its client is not approved (suspended by
    re-screening, rejected, restricted or erased)."""

    code = "client_not_in_good_standing"


class UnknownConfiguration(errors.InvalidValue):
    code = "unknown_configuration"


# --- settings and configurations --------------------------------------------------------------


def _env_int(name: str, default: int, minimum: int) -> int:
    raw = os.environ.get(name, "")
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise errors.InvalidValue(f"{name} must be an integer") from exc
    if value < minimum:
        raise errors.InvalidValue(f"{name} must be at least {minimum}")
    return value


@dataclass(slots=True)
class IssuanceSettings:
    """Lifetimes and sizes. From the environment: ``KYC_CREDENTIAL_VALIDITY_DAYS`` (365),
    ``KYC_STATUS_LIST_SIZE`` (131072), ``KYC_STATUS_TTL`` (60 s), ``KYC_OFFER_LIFETIME``
    (600 s)."""

    credential_validity: timedelta = timedelta(days=365)
    status_list_size: int = 131_072
    status_ttl: int = 60  # seconds a verifier may cache a status list (ttl, Cache-Control)
    status_token_lifetime: int = 24 * 3600  # exp of a status list token; refreshed at half
    offer_lifetime: int = 600  # pre-authorized code
    access_token_lifetime: int = 600
    nonce_lifetime: int = 300
    max_tx_code_attempts: int = 5
    decoys: tuple[int, int] = (2, 6)

    @classmethod
    def from_env(cls) -> IssuanceSettings:
        return cls(
            credential_validity=timedelta(days=_env_int("KYC_CREDENTIAL_VALIDITY_DAYS", 365, 1)),
            status_list_size=_env_int("KYC_STATUS_LIST_SIZE", 131_072, 1024),
            status_ttl=_env_int("KYC_STATUS_TTL", 60, 1),
            offer_lifetime=_env_int("KYC_OFFER_LIFETIME", 600, 30),
        )


@dataclass(frozen=True, slots=True)
class CredentialConfiguration:
    """One kind of credential this node issues (an OpenID4VCI credential configuration)."""

    id: str
    format: str  # dc+sd-jwt | vc+jwt
    key_role: str
    alg: str

    @property
    def status_format(self) -> str:
        return IETF if self.format == SD_JWT_VC else W3C

    @property
    def oid4vci_format(self) -> str:
        # OpenID4VCI 1.0 has no identifier for VCDM 2.0 vc+jwt; jwt_vc_json (App. A.1.1) is the
        # JWT-secured, non-JSON-LD-processed family it belongs to.
        return SD_JWT_VC if self.format == SD_JWT_VC else "jwt_vc_json"


CONFIGURATIONS: dict[str, CredentialConfiguration] = {
    c.id: c
    for c in (
        CredentialConfiguration("KycCredential", SD_JWT_VC, "issuing-p256", "ES256"),
        CredentialConfiguration("KycCredentialEd25519", SD_JWT_VC, "issuing-ed25519", "EdDSA"),
        CredentialConfiguration("KycCredentialVcdm2", VC_JWT, "issuing-p256", "ES256"),
    )
}
DEFAULT_CONFIGURATION = "KycCredential"

# The credential's claims, in order, with their display labels (type metadata, OID4VCI display).
CLAIMS: tuple[tuple[str, str], ...] = (
    ("kyc_level", "KYC level"),
    ("verified_at", "Verification date"),
    ("given_name", "Given name"),
    ("family_name", "Family name"),
    ("birthdate", "Date of birth"),
    ("age_over_18", "Over 18"),
    ("age_over_21", "Over 21"),
    ("nationality", "Nationality"),
    ("residence_country", "Country of residence"),
    ("document_type", "Identity document type"),
)


def type_metadata(vct: str) -> dict[str, Any]:
    """The SD-JWT VC Type Metadata document of the KYC credential (served at ``vct``)."""
    return {
        "vct": vct,
        "name": "KYC credential",
        "description": "The outcome of a know-your-customer check by a regulated institution: "
        "the verified identity and the KYC level reached.",
        "display": [
            {
                "locale": "en-US",
                "name": "KYC credential",
                "description": "Verified identity (know your customer)",
            }
        ],
        "claims": [
            {"path": [name], "display": [{"locale": "en-US", "label": label}], "sd": "always"}
            for name, label in CLAIMS
        ],
    }


def type_metadata_bytes(vct: str) -> bytes:
    """The exact bytes served at ``vct`` (``vct#integrity`` is computed over them)."""
    return json.dumps(type_metadata(vct), indent=2, ensure_ascii=False).encode("utf-8") + b"\n"


@dataclass(frozen=True, slots=True)
class IssuedCredential:
    id: str
    configuration: CredentialConfiguration
    credential: str  # the SD-JWT (with its disclosures) or the vc+jwt
    row: CredentialRow


@dataclass(frozen=True, slots=True)
class IssuanceDraft:
    """What ``IssuanceService.prepare`` read: the credentials' content but their status."""

    configuration: CredentialConfiguration
    application_id: str
    broker_key_id: int
    holder_did: str
    subject: dict[str, Any]
    holder_keys: tuple[PublicKey, ...]
    key: PrivateKey
    kid: str
    issuer: str
    iat: int
    exp: int
    now: str


@dataclass(frozen=True, slots=True)
class RecordedIssuance:
    """The rows ``IssuanceService.record`` stored, with their status allocations."""

    draft: IssuanceDraft
    allocations: tuple[Allocation, ...]
    rows: tuple[CredentialRow, ...]


# --- the service ----------------------------------------------------------------------------------


class IssuanceService:
    def __init__(self, node: Node, settings: IssuanceSettings | None = None) -> None:
        self.node = node
        self.settings = settings or IssuanceSettings.from_env()
        self.status = StatusLists(node, self.settings)
        self._keys: dict[str, PrivateKey] = {}
        node.events.subscribe(Event.CLIENT_SUSPENDED, self._on_client_suspended)
        node.events.subscribe(Event.CLIENT_REINSTATED, self._on_client_reinstated)

    @cached_property
    def oid4vci(self) -> Oid4vciService:
        from node.issuance_oid4vci import Oid4vciService  # noqa: PLC0415 (it imports us)

        return Oid4vciService(self)

    # --- identifiers ----------------------------------------------------------------------------

    @property
    def vct(self) -> str:
        return self.node.config.public_url + VCT_PATH

    @cached_property
    def vct_integrity(self) -> str:
        digest = hashlib.sha256(type_metadata_bytes(self.vct)).digest()
        return "sha256-" + base64.b64encode(digest).decode("ascii")

    def kid(self, public_key: PublicKey) -> str:
        """The DID URL naming an issuing key in the institution's DID document."""
        return f"{self.node.institution.did}#{multikey_from_public_key(public_key)}"

    def _signing_key(self, role: str) -> PrivateKey:
        name = self.node.keyring.current(role)
        key = self._keys.get(name)
        if key is None:
            key = self._keys[name] = self.node.keyring.private_key(name)
        return key

    # --- issuing --------------------------------------------------------------------------------

    def issue(
        self,
        application_id: str,
        configuration_id: str,
        holder_key: PublicKey,
        *,
        actor: str,
        within: Callable[[Sequence[str]], None] | None = None,
    ) -> IssuedCredential:
        """Issue one credential for an approved application, bound to ``holder_key``.

        ``within(credential_ids)`` runs inside the issuing transaction (OpenID4VCI marks its
        access token used there, so a refusal rolls both back)."""
        [issued] = self.issue_batch(
            application_id, configuration_id, [holder_key], actor=actor, within=within
        )
        return issued

    def issue_batch(
        self,
        application_id: str,
        configuration_id: str,
        holder_keys: Sequence[PublicKey],
        *,
        actor: str,
        within: Callable[[Sequence[str]], None] | None = None,
    ) -> list[IssuedCredential]:
        """Issue one credential per holder key, all from the same application data (OpenID4VCI
        batch issuance: one credential per key, so presentations cannot be linked by key or
        signature). All or nothing: one transaction, each credential its own random status
        index and audit record.

        Three steps, so the writer lock is held only for the rows: ``prepare`` reads (and
        decrypts) what the credentials say, ``record`` allocates their status indexes and
        stores their rows, and ``sign`` builds them once that is committed."""
        draft = self.prepare(application_id, configuration_id, holder_keys)
        with self.node.store.transaction():
            recorded = self.record(draft, actor=actor)
            if within is not None:
                within([row.id for row in recorded.rows])
        issued = self.sign(recorded)
        self.status.publish_pending()  # a new status group's first publication
        return issued

    def prepare(
        self, application_id: str, configuration_id: str, holder_keys: Sequence[PublicKey]
    ) -> IssuanceDraft:
        """Everything the credentials will say except their status references. Reads only."""
        if not holder_keys:
            raise errors.InvalidValue("at least one holder key is needed")
        configuration = CONFIGURATIONS.get(configuration_id)
        if configuration is None:
            raise UnknownConfiguration(f"no credential configuration {configuration_id!r}")
        claims = self.node.kyc.approved_claims(application_id)
        key = self._signing_key(configuration.key_role)
        moment = self.node.clock()
        iat = int(moment.timestamp())
        today = moment.date()
        subject: dict[str, Any] = {
            "kyc_level": claims.kyc_level,
            "verified_at": claims.verified_at,
            "given_name": claims.given_name,
            "family_name": claims.family_name,
            "birthdate": claims.birthdate.isoformat(),
            "age_over_18": age_on(claims.birthdate, today) >= 18,
            "age_over_21": age_on(claims.birthdate, today) >= 21,
            "nationality": claims.nationality,
            "residence_country": claims.residence_country,
            "document_type": claims.document_type,
        }
        return IssuanceDraft(
            configuration=configuration,
            application_id=application_id,
            broker_key_id=claims.broker_key_id,
            holder_did=claims.holder_did,
            subject=subject,
            holder_keys=tuple(holder_keys),
            key=key,
            kid=self.kid(key.public_key),
            issuer=self.node.institution.did,
            iat=iat,
            exp=iat + int(self.settings.credential_validity.total_seconds()),
            now=self.node.now(),
        )

    def record(self, draft: IssuanceDraft, *, actor: str) -> RecordedIssuance:
        """Allocate the status indexes and store the credential rows and their audit records,
        inside the caller's transaction. The client must still be approved: ``prepare`` read
        that before the writer lock was taken."""
        self.node.kyc.approved_status(draft.application_id)
        configuration = draft.configuration
        allocations = self.status.allocate_many(configuration.status_format, len(draft.holder_keys))
        rows = [
            CredentialRow(
                id="cred_" + secrets.token_urlsafe(12),
                application_id=draft.application_id,
                broker_key_id=draft.broker_key_id,
                format=configuration.format,
                configuration_id=configuration.id,
                status=CredentialStatus.VALID,
                suspended_by=None,
                status_reason=None,
                group_id=allocation.group_id,
                status_idx=allocation.index,
                holder_jkt=holder_key.thumbprint(),
                issuer_kid=draft.kid,
                issued_at=draft.now,
                expires_at=_iso(draft.exp),
                updated_at=draft.now,
            )
            for holder_key, allocation in zip(draft.holder_keys, allocations, strict=True)
        ]
        self.node.store.add_credentials(rows)
        self.node.store.record_events([
            AuditEvent(
                draft.now,
                actor,
                "credential.issued",
                row.id,
                {
                    "application_id": draft.application_id,
                    "configuration": configuration.id,
                    "status_group": row.group_id,
                },
            )
            for row in rows
        ])
        return RecordedIssuance(draft, tuple(allocations), tuple(rows))

    def sign(self, recorded: RecordedIssuance) -> list[IssuedCredential]:
        """The credentials themselves, for rows already stored (pure computation: signing with
        a key loaded by ``prepare`` does not fail on valid input)."""
        draft = recorded.draft
        configuration = draft.configuration
        issued: list[IssuedCredential] = []
        # What every SD-JWT VC of the batch says before its status: the same claims and the same
        # markers (each copy still gets salts and decoys of its own when it is issued).
        common: dict[Any, Any] = {
            "iss": draft.issuer,
            "iat": draft.iat,
            "exp": draft.exp,
            "vct": self.vct,
            "vct#integrity": self.vct_integrity,
            SD("sub"): draft.holder_did,
            **{SD(name): value for name, value in draft.subject.items()},
        }
        for holder_key, allocation, row in zip(
            draft.holder_keys, recorded.allocations, recorded.rows, strict=True
        ):
            status = StatusLists.references(
                configuration.status_format, allocation.index, allocation.lists
            )
            if configuration.format == SD_JWT_VC:
                payload: dict[Any, Any] = {**common, "status": status}
                token = issue_sd_jwt_vc(
                    payload,
                    draft.key,
                    header={"kid": draft.kid, "alg": configuration.alg},
                    holder_key=holder_key,
                    decoys=self.settings.decoys,
                )
            else:
                credential = {
                    "@context": [V2_CONTEXT],
                    "type": ["VerifiableCredential", "KycCredential"],
                    "issuer": draft.issuer,
                    "validFrom": _iso(draft.iat),
                    "validUntil": _iso(draft.exp),
                    "credentialSubject": {"id": draft.holder_did, **draft.subject},
                    "credentialStatus": status,
                    "cnf": {"jwk": holder_key.to_jwk()},
                }
                token = build_vc_jwt(
                    credential, draft.key, kid=draft.kid, iat=draft.iat, exp=draft.exp,
                    header={"alg": configuration.alg},
                )
            issued.append(IssuedCredential(row.id, configuration, token, row))
        return issued

    # --- reading --------------------------------------------------------------------------------

    def get(self, credential_id: str, *, broker_key_id: int | None) -> CredentialRow:
        """A credential; a broker sees only those of its own applications (others are "not
        found", so ids cannot be probed)."""
        row = self.node.store.get_credential(credential_id)
        if row is None or (broker_key_id is not None and row.broker_key_id != broker_key_id):
            raise CredentialNotFound(f"no credential {credential_id!r}")
        return row

    def view(self, row: CredentialRow) -> dict[str, Any]:
        lists = self.node.store.status_lists_of_group(row.group_id)
        fmt = IETF if row.format == SD_JWT_VC else W3C
        return {
            "id": row.id,
            "application_id": row.application_id,
            "format": row.format,
            "configuration_id": row.configuration_id,
            "status": row.status,
            "status_reason": row.status_reason,
            "suspended_by": row.suspended_by,
            "issued_at": row.issued_at,
            "expires_at": row.expires_at,
            "updated_at": row.updated_at,
            "issuer_kid": row.issuer_kid,
            "holder_key_thumbprint": row.holder_jkt,
            "status_reference": StatusLists.references(fmt, row.status_idx, lists),
        }

    def credentials_for(self, application_id: str) -> list[dict[str, Any]]:
        """The credentials issued for an application (for ``GET /kyc/applications/<id>``)."""
        return [
            self.view(row) for row in self.node.store.credentials_of_application(application_id)
        ]

    # --- lifecycle ------------------------------------------------------------------------------

    def revoke(
        self, credential_id: str, *, reason: str, broker_key_id: int | None, actor: str
    ) -> dict[str, Any]:
        return self._change(credential_id, CredentialStatus.REVOKED, reason, broker_key_id, actor)

    def suspend(
        self, credential_id: str, *, reason: str, broker_key_id: int | None, actor: str
    ) -> dict[str, Any]:
        return self._change(credential_id, CredentialStatus.SUSPENDED, reason, broker_key_id, actor)

    def reinstate(
        self, credential_id: str, *, reason: str, broker_key_id: int | None, actor: str
    ) -> dict[str, Any]:
        return self._change(credential_id, CredentialStatus.VALID, reason, broker_key_id, actor)

    def _change(
        self, credential_id: str, new: str, reason: str, broker_key_id: int | None, actor: str
    ) -> dict[str, Any]:
        self.get(credential_id, broker_key_id=broker_key_id)
        with self.node.store.transaction():
            row = self.get(credential_id, broker_key_id=broker_key_id)  # under the write lock
            if row.status == CredentialStatus.REVOKED:
                raise CredentialStatusConflict(f"credential {row.id} is revoked for good")
            if row.status == new:
                raise CredentialStatusConflict(f"credential {row.id} is already {new}")
            if new == CredentialStatus.VALID:
                application = self.node.store.get_application(row.application_id)
                if (
                    application is None
                    or application.status != "approved"
                    or application.restricted_at is not None
                    or application.erased_at is not None
                ):
                    raise ClientNotInGoodStanding(
                        f"the client of credential {row.id} is not approved: it cannot be "
                        "reinstated"
                    )
            self._set(row, new, by="broker", reason=reason)
            self._audit(
                actor,
                f"credential.{_ACTION[new]}",
                row.id,
                {"application_id": row.application_id, "by": "broker"},
            )
        self.status.publish_pending()
        return self.view(self.get(credential_id, broker_key_id=None))

    def _set(self, row: CredentialRow, status: str, *, by: str | None, reason: str | None) -> None:
        self.node.store.update_credential_status(
            row.id,
            status=status,
            suspended_by=by if status == CredentialStatus.SUSPENDED else None,
            reason=reason,
            now=self.node.now(),
        )
        self.status.set_status(row.group_id, row.status_idx, status)

    # --- KYC events (inside the publisher's transaction) -----------------------------------------

    def _on_client_suspended(self, application_id: str) -> None:
        for row in self.node.store.credentials_of_application(application_id):
            if row.status == CredentialStatus.VALID:
                self._set(
                    row, CredentialStatus.SUSPENDED, by="kyc", reason="client suspended by KYC"
                )
                self._audit(
                    "kyc",
                    "credential.suspended",
                    row.id,
                    {"application_id": application_id, "by": "kyc"},
                )

    def _on_client_reinstated(self, application_id: str) -> None:
        for row in self.node.store.credentials_of_application(application_id):
            if row.status == CredentialStatus.SUSPENDED and row.suspended_by == "kyc":
                self._set(row, CredentialStatus.VALID, by=None, reason="client reinstated by KYC")
                self._audit(
                    "kyc",
                    "credential.reinstated",
                    row.id,
                    {"application_id": application_id, "by": "kyc"},
                )

    def _audit(self, actor: str, action: str, subject: str, detail: dict[str, Any]) -> None:
        self.node.store.record_event(AuditEvent(self.node.now(), actor, action, subject, detail))


_ACTION = {
    CredentialStatus.REVOKED: "revoked",
    CredentialStatus.SUSPENDED: "suspended",
    CredentialStatus.VALID: "reinstated",
}


def _iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")
