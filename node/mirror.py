"""Mirror another node's registry log, trusting nothing but its pinned keys.

One sync:

1. fetch the source's checkpoint; check the log signature, the origin and the witness quorum;
2. check it is consistent with the last checkpoint this mirror verified (same size: same root;
   larger: an RFC 9162 consistency proof; smaller: rollback);
3. fetch the new entries as tlog-tiles entry bundles, and re-admit each one exactly as the log
   must have (strict schema, this origin, writer authorised by governance at that index, subject
   chain, no replay), integrating them into the mirror's own tiles;
4. after each chunk, prove the mirror's tree at that size is a prefix of the signed checkpoint
   (a consistency proof from the chunk's size to the checkpoint's), then commit: a sync that stops
   resumes from the last committed chunk;
5. at the checkpoint's size the recomputed root must equal the signed root.

Any mismatch stops the sync: both signed checkpoints (the last verified and the offending one)
are written to an evidence file, and the caller exits non-zero.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import errors
from node.peers import fetch
from node.registry import entry_row
from registry import merkle
from registry.cosignature import CosignatureVerifier
from registry.errors import ConsistencyProofInvalid, ForkDetected, RollbackDetected
from registry.governance import GovernancePolicy
from registry.log import Log
from registry.mirror import LogPolicy, VerifiedCheckpoint, update, verify_checkpoint
from registry.note import Ed25519Verifier
from storage import SqliteStore, open_store
from storage.records import MirrorStateRow

__all__ = ["MirrorConfig", "MirrorMismatch", "MirrorResult", "mirror_path", "sync"]

CHUNK_BUNDLES = 16  # 4,096 entries per verified, committed chunk


class MirrorMismatch(errors.VerificationFailed):
    code = "mirror_mismatch"


@dataclass(frozen=True, slots=True)
class MirrorConfig:
    source_url: str
    log_vkey: str
    governance: GovernancePolicy
    witness_vkeys: tuple[str, ...] = ()
    quorum: int = 0

    def policy(self) -> LogPolicy:
        verifier = Ed25519Verifier.from_vkey(self.log_vkey)
        return LogPolicy(
            origin=verifier.name,
            log_verifiers=(verifier,),
            witnesses=tuple(CosignatureVerifier.from_vkey(v) for v in self.witness_vkeys),
            quorum=self.quorum,
        )


@dataclass(frozen=True, slots=True)
class MirrorResult:
    origin: str
    old_size: int
    new_size: int
    root: bytes


def mirror_id(origin: str) -> str:
    """A file- and URL-safe name for the mirror of ``origin``."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", origin)[:80]
    return f"{safe}-{hashlib.sha256(origin.encode()).hexdigest()[:12]}"


def mirror_path(data_dir: Path, origin: str) -> Path:
    return data_dir / "mirrors" / f"{mirror_id(origin)}.sqlite3"


_MIRROR_ID = re.compile(r"[A-Za-z0-9._-]{1,100}-[0-9a-f]{12}")


def list_mirrors(data_dir: Path) -> list[dict[str, object]]:
    found = []
    for path in sorted((data_dir / "mirrors").glob("*.sqlite3")):
        store = SqliteStore(path)
        try:
            state = store.mirror_state()
        finally:
            store.close()
        if state is not None:
            found.append(
                {
                    "id": path.stem,
                    "origin": state.origin,
                    "source_url": state.source_url,
                    "size": state.size,
                    "updated_at": state.updated_at,
                }
            )
    return found


def open_mirror_log(data_dir: Path, mirror: str) -> Log:
    """A read-only Log over a mirror this node has verified; NotFound for any other name."""
    path = data_dir / "mirrors" / f"{mirror}.sqlite3"
    if not _MIRROR_ID.fullmatch(mirror) or not path.is_file():
        raise errors.NotFound(f"no mirror {mirror!r}")
    store = SqliteStore(path)
    state = store.mirror_state()
    if state is None:
        store.close()
        raise errors.NotFound(f"mirror {mirror!r} has not completed a sync yet")
    return Log(
        store,
        origin=state.origin,
        policy=None,
        sign_checkpoint=None,
        row_factory=entry_row,
        now=lambda: "",
    )


def sync(
    config: MirrorConfig,
    data_dir: Path,
    *,
    now: Callable[[], int],
    now_text: Callable[[], str],
    progress: Callable[[int, int], None] = lambda done, total: None,
    get: Callable[[str], bytes] | None = None,
) -> MirrorResult:
    """Run one sync; ``get(url) -> body`` fetches from the source (HTTP by default)."""
    policy = config.policy()
    path = mirror_path(data_dir, policy.origin)
    path.parent.mkdir(parents=True, exist_ok=True)
    store = open_store(path)
    try:
        return _Sync(config, policy, store, data_dir, get or _get).run(now, now_text, progress)
    finally:
        store.close()


class _Sync:
    """One sync run; holds what every step needs, including what evidence would cite."""

    def __init__(
        self,
        config: MirrorConfig,
        policy: LogPolicy,
        store: SqliteStore,
        data_dir: Path,
        get: Callable[[str], bytes],
    ) -> None:
        self.config = config
        self.policy = policy
        self.store = store
        self.data_dir = data_dir
        self.get = get
        self.base = config.source_url.rstrip("/") + "/registry"
        self.trusted: VerifiedCheckpoint | None = None
        self.note = b""

    def run(
        self,
        now: Callable[[], int],
        now_text: Callable[[], str],
        progress: Callable[[int, int], None],
    ) -> MirrorResult:
        state = self.store.mirror_state()
        self.trusted = _trusted(state, self.policy, now()) if state else None

        # Steps 1 and 2: a checkpoint we may move to.
        self.note = self.get(self.base + "/checkpoint")
        offered = verify_checkpoint(self.policy, self.note, now=now())
        old_size = self.trusted.checkpoint.size if self.trusted else 0
        proof: list[bytes] = []
        if self.trusted and 0 < old_size < offered.checkpoint.size:
            proof = self._consistency(old_size, offered.checkpoint.size)
        try:
            target = update(self.policy, self.trusted, self.note, proof, now=now())
        except (ForkDetected, RollbackDetected) as exc:
            raise self._evidence(exc) from exc

        # Steps 3 to 5: fetch, re-admit and verify entries chunk by chunk.
        log = Log(
            self.store,
            origin=self.policy.origin,
            policy=self.config.governance,
            sign_checkpoint=None,
            row_factory=entry_row,
            now=now_text,
        )
        size = self.store.registry_size()
        goal = target.checkpoint.size
        if size < old_size:
            raise errors.StorageError("the mirror holds fewer entries than it verified")
        while size < goal:
            end = min(goal, (size // merkle.TILE_WIDTH + CHUNK_BUNDLES) * merkle.TILE_WIDTH)
            entries = self._entries(size, end)
            with self.store.transaction():
                for index, outcome in enumerate(log.append_many(entries), start=size):
                    if isinstance(outcome, Exception):
                        raise self._evidence(
                            MirrorMismatch(f"entry {index} would not be admitted: {outcome}")
                        )
                root = merkle.tile_root(self.store, end)
                if end < goal:
                    self._check_prefix(end, goal, root, target)
                elif root != target.checkpoint.root_hash:
                    raise self._evidence(
                        MirrorMismatch("the entries served do not hash to the signed root")
                    )
            size = end
            progress(size, goal)

        cp = target.checkpoint
        with self.store.transaction():
            self.store.add_checkpoint(cp.size, cp.root_hash, target.note, now_text())
            self.store.put_mirror_state(
                MirrorStateRow(
                    self.policy.origin,
                    self.config.source_url,
                    cp.size,
                    cp.root_hash,
                    target.note,
                    now_text(),
                )
            )
        return MirrorResult(self.policy.origin, old_size, cp.size, cp.root_hash)

    def _check_prefix(self, size: int, goal: int, root: bytes, target: VerifiedCheckpoint) -> None:
        proof = self._consistency(size, goal)
        try:
            merkle.verify_consistency(size, goal, proof, root, target.checkpoint.root_hash)
        except ConsistencyProofInvalid as exc:
            raise self._evidence(
                MirrorMismatch(f"entries up to {size} are not a prefix of the signed tree: {exc}")
            ) from exc

    def _evidence(self, exc: errors.Error) -> errors.Error:
        old = self.trusted.note if self.trusted else None
        return _evidence(self.data_dir, self.policy.origin, exc, old, self.note)

    def _consistency(self, old: int, new: int) -> list[bytes]:
        body = json.loads(self.get(f"{self.base}/proof/consistency?old={old}&new={new}"))
        try:
            return [base64.b64decode(h, validate=True) for h in body["proof"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise errors.InvalidValue("malformed consistency proof from the source") from exc

    def _entries(self, start: int, end: int) -> list[bytes]:
        """Entries [start, end) from tlog-tiles entry bundles (whole or partial)."""
        out: list[bytes] = []
        index = start // merkle.TILE_WIDTH
        while index * merkle.TILE_WIDTH < end:
            first = index * merkle.TILE_WIDTH
            width = min(merkle.TILE_WIDTH, end - first)
            path = str(merkle.TilePath(None, index, width))
            bundle = merkle.decode_bundle(self.get(f"{self.base}/{path}"), width=width)
            out.extend(bundle[max(0, start - first) :])
            index += 1
        return out


def _trusted(state: MirrorStateRow, policy: LogPolicy, now: int) -> VerifiedCheckpoint:
    # Re-verify our own stored state: a tampered mirror database must not become the anchor.
    stored = verify_checkpoint(LogPolicy(policy.origin, policy.log_verifiers), state.note, now=now)
    return VerifiedCheckpoint(stored.checkpoint, state.note, stored.cosignatures)


def _evidence(
    data_dir: Path, origin: str, exc: errors.Error, old: bytes | None, new: bytes
) -> errors.Error:
    """Write both signed checkpoints to an evidence file; return the error to raise."""
    folder = data_dir / "mirrors" / "evidence"
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256((old or b"") + b"|" + new).hexdigest()[:16]
    path = folder / f"{re.sub(r'[^A-Za-z0-9._-]+', '_', origin)[:80]}-{digest}.json"
    path.write_text(
        json.dumps(
            {
                "origin": origin,
                "error": exc.code,
                "message": exc.message,
                "last_verified_checkpoint": old.decode("utf-8") if old else None,
                "offending_checkpoint": new.decode("utf-8", "replace"),
            },
            indent=2,
        )
        + "\n"
    )
    exc.evidence_path = str(path)  # type: ignore[attr-defined]
    return exc


def _get(url: str) -> bytes:
    reply = fetch(url)
    if reply.status != 200:
        raise errors.ServiceUnavailable(f"{url} answered {reply.status}")
    return reply.body
