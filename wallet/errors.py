"""What can go wrong in the wallet, each with a stable snake_case ``code``.

The wallet is a client: its errors never become HTTP answers of this service, so they form their
own small hierarchy instead of joining ``errors.Error`` (whose codes are the service's API and are
documented in docs/api.md). Errors raised by ``credentials``/``identity`` while the wallet checks
what it receives keep their own classes and codes; the CLI prints both kinds as one line.
"""

from __future__ import annotations

__all__ = [
    "ConsentRefused",
    "CredentialRejected",
    "IssuerUnreachable",
    "NoMatchingCredential",
    "OfferExpired",
    "ProtocolError",
    "RegistryEvidenceInvalid",
    "RemoteError",
    "UnsafeUrl",
    "UnsupportedWalletVersion",
    "WalletError",
    "WalletExists",
    "WalletNotFound",
    "WalletTampered",
    "WrongPassphrase",
]


class WalletError(Exception):
    """Base of every error the wallet raises on purpose."""

    code = "wallet_error"

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.code)
        self.message = message or self.code


# --- the wallet file ----------------------------------------------------------------------------


class WalletNotFound(WalletError):
    code = "wallet_not_found"


class WalletExists(WalletError):
    code = "wallet_exists"


class WrongPassphrase(WalletError):
    code = "wrong_passphrase"


class WalletTampered(WalletError):
    code = "wallet_tampered"


class UnsupportedWalletVersion(WalletError):
    code = "unsupported_wallet_version"


# --- talking to issuers and verifiers -----------------------------------------------------------


class UnsafeUrl(WalletError):
    """A URL that is neither https nor http to a loopback address."""

    code = "unsafe_url"


class IssuerUnreachable(WalletError):
    """A connection failure, timeout or unreadable answer (issuer or verifier)."""

    code = "unreachable"


class ProtocolError(WalletError):
    """A message that does not follow OpenID4VCI / OpenID4VP (malformed, missing members)."""

    code = "protocol_error"


class RemoteError(WalletError):
    """The other side answered with an error; ``remote_code`` is its ``error`` member."""

    code = "remote_error"

    def __init__(self, message: str, *, status: int, remote_code: str | None) -> None:
        super().__init__(message)
        self.status = status
        self.remote_code = remote_code


class OfferExpired(RemoteError):
    """The issuer refused the pre-authorized code (``invalid_grant``): used, expired or wrong."""

    code = "offer_expired"


class CredentialRejected(WalletError):
    """What the issuer sent did not verify (signature, issuer key, holder binding ...)."""

    code = "credential_rejected"


class RegistryEvidenceInvalid(CredentialRejected):
    """The issuer's DID version is not proven to be in the registry."""

    code = "registry_evidence_invalid"


class NoMatchingCredential(WalletError):
    code = "no_matching_credential"


class ConsentRefused(WalletError):
    code = "consent_refused"
