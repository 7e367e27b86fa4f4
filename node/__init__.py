"""One institution's node: the running parts that ``create_app`` wires together.

``open_node(config)`` opens the store, loads (or on first run creates) the master key, and makes
sure the institution exists with its issuing keys. It is used by the HTTP app and by the CLI, so
both see exactly the same state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from config import Config
from identity import did_key
from identity.keys import KeyType
from identity.resolver import Resolver
from node.mirror import list_mirrors, open_mirror_log
from node.registry import RegistryService
from registry.log import Log
from storage import InstitutionRecord, Sealer, SqliteStore, load_or_create_master_key, open_store
from storage.keyring import Keyring

__all__ = ["ISSUING_KEYS", "Node", "isoformat", "open_node", "utc_now"]

log = logging.getLogger(__name__)

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


def utc_now() -> datetime:
    return datetime.now(UTC)


def isoformat(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(slots=True)
class Node:
    config: Config
    store: SqliteStore
    keyring: Keyring
    resolver: Resolver
    clock: Callable[[], datetime] = field(default=utc_now)
    registry: RegistryService = field(init=False)
    _mirror_logs: dict[str, Log] = field(default_factory=dict)

    def now(self) -> str:
        return isoformat(self.clock())

    def unix_now(self) -> int:
        return int(self.clock().timestamp())

    @property
    def institution(self) -> InstitutionRecord:
        record = self.store.get_institution()
        if record is None:  # open_node creates it; only a wiped database gets here
            raise RuntimeError("institution missing")
        return record

    def mirrors(self) -> list[dict[str, object]]:
        """The verified mirrors this node keeps, for ``GET /mirrors``."""
        return list_mirrors(self.config.data_dir)

    def mirror_log(self, mirror_id: str) -> Log:
        """A read-only Log over one verified mirror (opened once, then cached)."""
        if mirror_id not in self._mirror_logs:
            self._mirror_logs[mirror_id] = open_mirror_log(self.config.data_dir, mirror_id)
        return self._mirror_logs[mirror_id]

    def close(self) -> None:
        for mirror in self._mirror_logs.values():
            mirror.store.close()  # type: ignore[attr-defined]
        self.store.close()


def open_node(config: Config, clock: Callable[[], datetime] = utc_now) -> Node:
    config.data_dir.mkdir(parents=True, exist_ok=True)
    sealer = Sealer(load_or_create_master_key(config.data_dir, config.master_key))
    store = open_store(config.database_path)
    keyring = Keyring(store, sealer)
    node = Node(config=config, store=store, keyring=keyring, resolver=Resolver(), clock=clock)
    _ensure_institution(node)
    node.registry = RegistryService.open(node)
    return node


def _ensure_institution(node: Node) -> None:
    """Create the institution and its keys on first start; keep the public URL current."""
    with node.store.transaction():
        existing = node.store.get_institution()
        if existing is not None:
            if existing.public_url != node.config.public_url:
                node.store.update_institution_url(node.config.public_url)
            known = set(node.keyring.names())
            for name, kind in {**ISSUING_KEYS, **REGISTRY_KEYS}.items():
                if name not in known:
                    node.keyring.create(name, kind, node.now())
            return
        now = node.now()
        public = {name: node.keyring.create(name, kind, now) for name, kind in ISSUING_KEYS.items()}
        for name, kind in REGISTRY_KEYS.items():
            node.keyring.create(name, kind, now)
        # Until the registry-anchored did:webvh identity exists, the institution is known by the
        # did:key of its Ed25519 issuing key.
        did = did_key.did_from_public_key(public["issuing-ed25519"])
        node.store.create_institution(
            InstitutionRecord(
                name=node.config.institution_name,
                public_url=node.config.public_url,
                did=did,
                created_at=now,
            )
        )
        log.info("created institution %s (%s)", node.config.institution_name, did)
