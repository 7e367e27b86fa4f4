"""The holder's side: a wallet file, the holder's decisions, and the network client.

* ``wallet.store`` - the encrypted wallet file (Argon2id + AES-256-GCM, atomic writes);
* ``wallet.holder`` - pure: offers, requests, DCQL matching, presentations, key proofs;
* ``wallet.client`` - the only network code: OpenID4VCI ``receive``, OpenID4VP ``present``;
* ``wallet.cli`` - ``python -m wallet``.

The wallet imports ``credentials``, ``identity`` and (for registry proofs) ``registry``; never
``storage``, ``api``, ``node`` or Flask.
"""

from __future__ import annotations

from wallet.client import present, receive
from wallet.errors import WalletError
from wallet.holder import CredentialRecord, match_dcql, parse_dcql
from wallet.store import KdfParams, Wallet

__all__ = [
    "CredentialRecord",
    "KdfParams",
    "Wallet",
    "WalletError",
    "match_dcql",
    "parse_dcql",
    "present",
    "receive",
]
