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

    def __init__(self, message: str, evidence: tuple[bytes | None, bytes]) -> None:
        super().__init__(message)
        self.evidence = evidence


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


def mirror_path(data_dir: Path, origin: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", origin)[:80]
    digest = hashlib.sha256(origin.encode()).hexdigest()[:12]
    return data_dir / "mirrors" / f"{safe}-{digest}.sqlite3"


def sync(
    config: MirrorConfig,
    data_dir: Path,
    *,
    now: Callable[[], int],
    now_text: Callable[[], str],
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> MirrorResult:
    policy = config.policy()
    path = mirror_path(data_dir, policy.origin)
    path.parent.mkdir(parents=True, exist_ok=True)
    store = open_store(path)
    try:
        return _sync(config, policy, store, data_dir, now, now_text, progress)
    finally:
        store.close()


def _sync(
    config: MirrorConfig,
    policy: LogPolicy,
    store: SqliteStore,
    data_dir: Path,
    now: Callable[[], int],
    now_text: Callable[[], str],
    progress: Callable[[int, int], None],
) -> MirrorResult:
    base = config.source_url.rstrip("/") + "/registry"
    state = store.mirror_state()
    trusted = _trusted(state, policy, now()) if state else None

    # Steps 1 and 2: a checkpoint we may move to.
    note = _get(base + "/checkpoint")
    offered = verify_checkpoint(policy, note, now=now())
    old_size = trusted.checkpoint.size if trusted else 0
    proof: list[bytes] = []
    if trusted and 0 < old_size < offered.checkpoint.size:
        proof = _consistency(base, old_size, offered.checkpoint.size)
    try:
        target = update(policy, trusted, note, proof, now=now())
    except (ForkDetected, RollbackDetected) as exc:
        raise _evidence(data_dir, policy.origin, exc, trusted.note if trusted else None,
                        note) from exc

    # Steps 3 to 5: fetch, re-admit and verify entries chunk by chunk.
    log = Log(store, origin=policy.origin, policy=config.governance, sign_checkpoint=None,
              row_factory=entry_row, now=now_text)
    size = store.registry_size()
    goal = target.checkpoint.size
    if size < old_size:
        raise errors.StorageError("the mirror holds fewer entries than it verified")
    while size < goal:
        end = min(goal, (size // merkle.TILE_WIDTH + CHUNK_BUNDLES) * merkle.TILE_WIDTH)
        entries = _entries(base, size, end)
        with store.transaction():
            outcomes = log.append_many(entries)
            for index, outcome in enumerate(outcomes, start=size):
                if isinstance(outcome, Exception):
                    raise _evidence(
                        data_dir, policy.origin,
                        MirrorMismatch(f"entry {index} would not be admitted: {outcome}",
                                       (trusted.note if trusted else None, note)),
                        trusted.note if trusted else None, note,
                    )
            root = merkle.tile_root(store, end)
            if end < goal:
                _check_prefix(base, end, goal, root, target, data_dir, trusted, note)
            elif root != target.checkpoint.root_hash:
                raise _evidence(
                    data_dir, policy.origin,
                    MirrorMismatch("the entries served do not hash to the signed root",
                                   (trusted.note if trusted else None, note)),
                    trusted.note if trusted else None, note,
                )
        size = end
        progress(size, goal)

    with store.transaction():
        cp = target.checkpoint
        store.add_checkpoint(cp.size, cp.root_hash, target.note, now_text())
        store.put_mirror_state(MirrorStateRow(policy.origin, config.source_url, cp.size,
                                              cp.root_hash, target.note, now_text()))
    return MirrorResult(policy.origin, old_size, target.checkpoint.size,
                        target.checkpoint.root_hash)


def _trusted(state: MirrorStateRow, policy: LogPolicy, now: int) -> VerifiedCheckpoint:
    # Re-verify our own stored state: a tampered mirror database must not become the anchor.
    stored = verify_checkpoint(
        LogPolicy(policy.origin, policy.log_verifiers), state.note, now=now
    )
    return VerifiedCheckpoint(stored.checkpoint, state.note, stored.cosignatures)


def _check_prefix(
    base: str, size: int, goal: int, root: bytes, target: VerifiedCheckpoint, data_dir: Path,
    trusted: VerifiedCheckpoint | None, note: bytes,
) -> None:
    proof = _consistency(base, size, goal)
    try:
        merkle.verify_consistency(size, goal, proof, root, target.checkpoint.root_hash)
    except ConsistencyProofInvalid as exc:
        raise _evidence(
            data_dir, target.checkpoint.origin,
            MirrorMismatch(f"entries up to {size} are not a prefix of the signed tree: {exc}",
                           (trusted.note if trusted else None, note)),
            trusted.note if trusted else None, note,
        ) from exc


def _evidence(
    data_dir: Path, origin: str, exc: errors.Error, old: bytes | None, new: bytes
) -> errors.Error:
    """Write both signed checkpoints to an evidence file; return the error to raise."""
    folder = data_dir / "mirrors" / "evidence"
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256((old or b"") + b"|" + new).hexdigest()[:16]
    path = folder / f"{re.sub(r'[^A-Za-z0-9._-]+', '_', origin)[:80]}-{digest}.json"
    path.write_text(json.dumps({
        "origin": origin,
        "error": exc.code,
        "message": exc.message,
        "last_verified_checkpoint": old.decode("utf-8") if old else None,
        "offending_checkpoint": new.decode("utf-8", "replace"),
    }, indent=2) + "\n")
    exc.evidence_path = str(path)  # type: ignore[attr-defined]
    return exc


def _get(url: str) -> bytes:
    reply = fetch(url)
    if reply.status != 200:
        raise errors.ServiceUnavailable(f"{url} answered {reply.status}")
    return reply.body


def _consistency(base: str, old: int, new: int) -> list[bytes]:
    body = json.loads(_get(f"{base}/proof/consistency?old={old}&new={new}"))
    try:
        return [base64.b64decode(h, validate=True) for h in body["proof"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise errors.InvalidValue("malformed consistency proof from the source") from exc


def _entries(base: str, start: int, end: int) -> list[bytes]:
    """Entries [start, end) from tlog-tiles entry bundles (whole or partial)."""
    out: list[bytes] = []
    index = start // merkle.TILE_WIDTH
    while index * merkle.TILE_WIDTH < end:
        first = index * merkle.TILE_WIDTH
        width = min(merkle.TILE_WIDTH, end - first)
        path = str(merkle.TilePath(None, index, width))
        bundle = merkle.decode_bundle(_get(f"{base}/{path}"), width=width)
        out.extend(bundle[max(0, start - first):])
        index += 1
    return out

