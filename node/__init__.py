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

import errors
from config import Config
from identity import did_webvh
from identity.resolver import Resolver
from node.dids import anchor_did_log, did_domain, make_registry_resolver, node_services
from node.events import EventBus
from node.issuance import IssuanceService
from node.keys import DID_KEYS, ISSUING_KEYS, REGISTRY_KEYS, issuing_keys
from node.kyc import KycService
from node.mirror import list_mirrors, open_mirror_log
from node.registry import RegistryService
from node.verification import VerificationService
from registry.log import Log
from storage import InstitutionRecord, Sealer, SqliteStore, load_or_create_master_key, open_store
from storage.keyring import Keyring
from storage.pii import PiiVault

__all__ = [
    "DID_KEYS",
    "ISSUING_KEYS",
    "REGISTRY_KEYS",
    "Node",
    "isoformat",
    "issuing_keys",
    "open_node",
    "utc_now",
]

log = logging.getLogger(__name__)

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
    vault: PiiVault = field(init=False)
    sealer: Sealer = field(init=False, repr=False)
    kyc: KycService = field(init=False)
    issuance: IssuanceService = field(init=False)
    verification: VerificationService = field(init=False)
    events: EventBus = field(default_factory=EventBus)
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

    def mirror_logs(self) -> list[tuple[str, Log]]:
        """``(id, read-only Log)`` of every verified mirror; opened once, then cached."""
        found = []
        for path in sorted((self.config.data_dir / "mirrors").glob("*.sqlite3")):
            try:
                found.append((path.stem, self.mirror_log(path.stem)))
            except errors.NotFound:  # a mirror whose first sync has not completed
                continue
        return found

    def mirror_log(self, mirror_id: str) -> Log:
        """A read-only Log over one verified mirror (opened once, then cached)."""
        if mirror_id not in self._mirror_logs:
            self._mirror_logs[mirror_id] = open_mirror_log(self.config.data_dir, mirror_id)
        return self._mirror_logs[mirror_id]

    def release_thread(self) -> None:
        """Close the calling thread's database connections (end of a request)."""
        self.store.release_thread()
        for mirror in self._mirror_logs.values():
            mirror.store.release_thread()  # type: ignore[attr-defined]

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
    node.vault = PiiVault(store, sealer)
    node.sealer = sealer
    node.resolver.register("webvh", make_registry_resolver(node))
    # First start is all or nothing: keys, the institution's DID, its authorisation as a writer
    # and the DID's genesis entry in the registry commit together, or not at all.
    with store.transaction():
        genesis = _ensure_institution(node)
        node.registry = RegistryService.open(node)
        if genesis is not None:
            anchor_did_log(node, node.institution.did, [genesis])
    node.kyc = KycService(node)
    node.issuance = IssuanceService(node)
    node.verification = VerificationService(node)
    return node


def _ensure_institution(node: Node) -> dict[str, object] | None:
    """Create the institution, its keys and its did:webvh DID on first start (returning the DID's
    genesis log entry); later, keep the public URL current and add keys new versions need."""
    existing = node.store.get_institution()
    now = node.now()
    if existing is not None:
        if existing.public_url != node.config.public_url:
            node.store.update_institution_url(node.config.public_url)
        known = set(node.keyring.names())
        for name, kind in {**REGISTRY_KEYS, **DID_KEYS}.items():
            if name not in known:
                node.keyring.create(name, kind, now)
        return None
    for role, kind in ISSUING_KEYS.items():
        node.keyring.create(role, kind, now)
    for name, kind in {**REGISTRY_KEYS, **DID_KEYS}.items():
        node.keyring.create(name, kind, now)
    domain, port, path = did_domain(node.config.public_url)
    did, genesis = did_webvh.create(
        domain, path or None, node.keyring.private_key("did-update"),
        keys=list(issuing_keys(node).values()),
        services=node_services(node.config.public_url),
        port=port, now=node.clock(),
    )
    node.store.create_institution(
        InstitutionRecord(
            name=node.config.institution_name,
            public_url=node.config.public_url,
            did=did,
            created_at=now,
        )
    )
    log.info("created institution %s (%s)", node.config.institution_name, did)
    return genesis
