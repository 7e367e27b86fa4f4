"""The node's keys by role. Names are stable; rotation adds ``<role>.N`` (see Keyring)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from identity.keys import KeyType, PublicKey

if TYPE_CHECKING:
    from node import Node

__all__ = ["DID_KEYS", "ISSUING_KEYS", "REGISTRY_KEYS", "issuing_keys"]

# The institution's signing keys, by role. Ed25519 signs by default; P-256 (ES256) is there for
# wallets and ecosystems (HAIP, EUDI) that only accept ES256.
ISSUING_KEYS: dict[str, KeyType] = {
    "issuing-ed25519": KeyType.ED25519,
    "issuing-p256": KeyType.P256,
}
# Registry keys, one per job, so that compromising one does not give the others: the log's
# checkpoint key, this node's witness cosigning key, its governance key, and the key it signs its
# own registry entries with as a writer. All Ed25519 (C2SP notes and cosignature/v1).
REGISTRY_KEYS: dict[str, KeyType] = {
    "registry-log": KeyType.ED25519,
    "registry-witness": KeyType.ED25519,
    "registry-governance": KeyType.ED25519,
    "registry-writer": KeyType.ED25519,
}
# The did:webvh update key: signs the institution's DID log entries, nothing else.
DID_KEYS: dict[str, KeyType] = {"did-update": KeyType.ED25519}


def issuing_keys(node: Node) -> dict[str, PublicKey]:
    """The institution's current issuing keys, by role."""
    return {role: node.keyring.public_key(node.keyring.current(role)) for role in ISSUING_KEYS}
