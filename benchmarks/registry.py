"""Registry benchmark (a script, not a test): appends, proofs, mirror verification, vs raw floors.

Run from the repository root::

    .venv/bin/python benchmarks/registry.py            # everything, about 3 minutes
    .venv/bin/python benchmarks/registry.py --quick    # smoke run, seconds
    .venv/bin/python benchmarks/registry.py --sizes 10000,100000,1000000   # skip 10M (~40 s)
    .venv/bin/python benchmarks/registry.py --profile  # + cProfile of the admission path

What is measured (each beside a floor measured in the same run, and as a ratio to it):

* **floors**: Ed25519 verifications/s and SHA-256 hashes/s (64-byte node input) with
  ``cryptography`` / ``hashlib`` directly, no project code.
* **append**: signed ``status.publish`` entries (each signed by a writer that a governance entry
  authorised) through the real ``registry.log.Log`` over a real ``SqliteStore`` file: admission,
  group-committed integration, one signed checkpoint per batch. Two shapes: *concurrent*, N
  threads each calling ``Log.append`` for one entry at a time (what HTTP clients do; the group
  commit forms the batches), and *bulk*, one caller handing ``append_many`` 1,024 entries.
  Run with the store's own settings (WAL, ``synchronous=NORMAL``) and with
  ``synchronous=FULL`` (fsync on every commit: power-loss durable).
* **proofs**: inclusion and consistency proofs from tiles at 10k, 100k, 1M and 10M leaves
  (tiles built directly with ``merkle.integrate`` in large batches, into a ``MemoryTileStore``
  and a ``SqliteStore`` file; 10M signed entries through the Log would take about an hour):
  random indexes, first pass with the tile cache emptied, then the same proofs again (warm),
  and a worst case that empties the cache before every proof.
* **mirror**: what a mirror does per entry of the appended log: check the signed checkpoint,
  ``parse_entry``, authorise against the writer set replayed from governance entries (Ed25519
  verify), check the subject chain, then recompute the tree and compare with the checkpoint.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import math
import os
import pstats
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from identity.did_key import did_from_public_key
from identity.keys import KeyType, PrivateKey
from node.mirror import CHUNK_BUNDLES
from node.registry import entry_row
from registry import merkle
from registry.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from registry.entries import EntryType, parse_entry, sign_entry
from registry.governance import GovernancePolicy, WriterSet
from registry.log import Log
from registry.mirror import LogPolicy, verify_checkpoint
from registry.note import Ed25519Signer
from storage import SqliteStore

ORIGIN = "bench.example/registry"
TIME = "2026-01-01T00:00:00Z"


def _out(text: str = "") -> None:
    print(text, flush=True)


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


# --- floors ---------------------------------------------------------------------------------------


def ed25519_floor(count: int, message_size: int) -> float:
    """Ed25519 verifications per second, ``cryptography`` directly."""
    key = Ed25519PrivateKey.generate()
    public = key.public_key()
    message = os.urandom(message_size)
    signature = key.sign(message)
    verify = public.verify
    start = time.perf_counter()
    for _ in range(count):
        verify(signature, message)
    return _rate(count, time.perf_counter() - start)


def sha256_floor(count: int) -> float:
    """SHA-256 digests per second of a 65-byte input (an RFC 9162 node: 0x01 || left || right)."""
    data = b"\x01" + os.urandom(64)
    sha256 = hashlib.sha256
    start = time.perf_counter()
    for _ in range(count):
        sha256(data).digest()
    return _rate(count, time.perf_counter() - start)


# --- a real log over a real SQLite file -----------------------------------------------------------


class FullSyncStore(SqliteStore):
    """The production store with ``PRAGMA synchronous = FULL`` (an fsync per WAL commit)."""

    def _conn(self):  # type: ignore[no-untyped-def]
        fresh = getattr(self._local, "conn", None) is None
        conn = super()._conn()
        if fresh:
            conn.execute("PRAGMA synchronous = FULL")
        return conn


class Keys:
    def __init__(self) -> None:
        self.governance = PrivateKey.generate(KeyType.ED25519)
        self.writer = PrivateKey.generate(KeyType.ED25519)
        self.writer_did = did_from_public_key(self.writer.public_key)
        self.governance_did = did_from_public_key(self.governance.public_key)
        self.checkpoint_signer = Ed25519Signer(ORIGIN, Ed25519PrivateKey.generate())
        self.policy = GovernancePolicy((self.governance.public_key,), 1)


def writer_add(keys: Keys) -> bytes:
    return sign_entry(
        log=ORIGIN,
        entry_type=EntryType.WRITER_ADD,
        subject=keys.writer_did,
        prev=None,
        time=TIME,
        nonce=os.urandom(16),
        payload={
            "did": keys.writer_did,
            "registry_key": keys.writer.public_key.to_jwk(),
            "roles": ["issuer", "writer"],
        },
        writer=keys.governance_did,
        keys=[keys.governance],
    ).data


def status_entries(keys: Keys, count: int) -> list[bytes]:
    """``count`` signed status-list publications, each for its own list (prev = null)."""
    out = []
    for i in range(count):
        uri = f"https://issuer.example/status/{i}"
        out.append(
            sign_entry(
                log=ORIGIN,
                entry_type=EntryType.STATUS_PUBLISH,
                subject=uri,
                prev=None,
                time=TIME,
                nonce=os.urandom(16),
                payload={
                    "list_uri": uri,
                    "version": 1,
                    "token_sha256": hashlib.sha256(b"%d" % i).hexdigest(),
                    "purpose": "revocation",
                },
                writer=keys.writer_did,
                keys=[keys.writer],
            ).data
        )
    return out


def open_log(path: Path, keys: Keys, *, full_sync: bool) -> Log:
    store = (FullSyncStore if full_sync else SqliteStore)(path)
    signer = keys.checkpoint_signer

    def sign(size: int, root: bytes) -> bytes:
        return sign_checkpoint(Checkpoint(ORIGIN, size, root), [signer])

    log = Log(
        store,
        origin=ORIGIN,
        policy=keys.policy,
        sign_checkpoint=sign,
        row_factory=entry_row,
        now=lambda: TIME,
    )
    log.ensure_checkpoint()
    return log


def append_concurrent(log: Log, entries: Sequence[bytes], threads: int) -> float:
    """``threads`` clients, each appending its share one entry at a time; returns seconds."""
    shares = [entries[i::threads] for i in range(threads)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads + 1)

    def client(share: Sequence[bytes]) -> None:
        barrier.wait()
        try:
            for data in share:
                log.append(data)
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=client, args=(s,)) for s in shares]
    for w in workers:
        w.start()
    barrier.wait()
    start = time.perf_counter()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return elapsed


def append_bulk(log: Log, entries: Sequence[bytes], chunk: int = 1024) -> float:
    start = time.perf_counter()
    for i in range(0, len(entries), chunk):
        for outcome in log.append_many(entries[i : i + chunk]):
            if isinstance(outcome, Exception):
                raise outcome
    return time.perf_counter() - start


def bench_appends(args: argparse.Namespace, keys: Keys, workdir: Path, verify_rate: float) -> Log:
    _out(f"\n## append: {args.appends:,} signed entries, real Log over a SQLite file")
    t0 = time.perf_counter()
    governance = writer_add(keys)
    entries = status_entries(keys, args.appends)
    sample = len(entries[0])
    _out(f"(signed the entries client-side in {time.perf_counter() - t0:.1f} s; ~{sample} B each)")
    kept: Log | None = None
    for full_sync in (False, True):
        mode = "synchronous=FULL " if full_sync else "synchronous=NORMAL"
        for shape in ("concurrent", "bulk"):
            path = workdir / f"append-{shape}-{int(full_sync)}.sqlite"
            log = open_log(path, keys, full_sync=full_sync)
            log.append(governance)
            if shape == "concurrent":
                seconds = append_concurrent(log, entries, args.threads)
                label = f"{args.threads} threads x append()"
            else:
                seconds = append_bulk(log, entries)
                label = "append_many(1024)"
            if log.size() != len(entries) + 1:
                raise SystemExit("append: not every entry was admitted")
            rate = _rate(len(entries), seconds)
            checkpoints = (
                log.store._conn().execute("SELECT COUNT(*) FROM registry_checkpoints").fetchone()[0]
            )
            batch = len(entries) / max(1, checkpoints - 2)
            _out(
                f"  {mode}  {label:<24} {rate:8,.0f} appends/s  "
                f"({1e6 / rate:5.0f} us/entry = {verify_rate / rate:4.1f}x an Ed25519 verify; "
                f"mean batch {batch:,.0f})"
            )
            if kept is None and shape == "bulk":
                kept = log
            else:
                log.store.close()
    _out(f"  target: >= 5,000 appends/s on 2 cores (this machine: {os.cpu_count()} cpus)")
    if args.profile:
        profile_admission(keys, workdir, entries[: min(len(entries), 5000)], governance)
    if kept is None:
        raise SystemExit("append: no log kept")
    return kept


def profile_admission(
    keys: Keys, workdir: Path, entries: Sequence[bytes], governance: bytes
) -> None:
    log = open_log(workdir / "profile.sqlite", keys, full_sync=False)
    log.append(governance)
    profiler = cProfile.Profile()
    profiler.enable()
    append_bulk(log, entries)
    profiler.disable()
    log.store.close()
    _out(f"\n### profile of append_many over {len(entries):,} entries (top 25 by own time)")
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(30)


# --- proofs ---------------------------------------------------------------------------------------


def _clear_tile_cache() -> None:
    cache = getattr(merkle, "_TILE_CACHE", None)  # absent before the cache existed
    if cache is not None:
        cache.clear()


def _time_each(calls: Sequence[Callable[[], object]], *, clear_each: bool = False) -> list[float]:
    times = []
    clock = time.perf_counter
    for call in calls:
        if clear_each:
            _clear_tile_cache()
        start = clock()
        call()
        times.append(clock() - start)
    return times


def _summary(times: Sequence[float]) -> str:
    ordered = sorted(times)
    mean = statistics.fmean(ordered)
    p50 = ordered[len(ordered) // 2]
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"mean {mean * 1e3:6.3f} ms  p50 {p50 * 1e3:6.3f}  p99 {p99 * 1e3:6.3f}"


def bench_proofs(args: argparse.Namespace, workdir: Path, hash_rate: float) -> None:
    sizes = sorted(int(s) for s in args.sizes.split(","))
    _out(f"\n## proofs from tiles: {args.proofs:,} random proofs per size")
    memory = merkle.MemoryTileStore()
    sqlite = SqliteStore(workdir / "proofs.sqlite")
    rng = random.Random(1)
    size, salt = 0, os.urandom(8)
    build_seconds = 0.0
    for target in sizes:
        start = time.perf_counter()
        while size < target:
            step = min(1 << 16, target - size)
            leaves = [
                hashlib.sha256(b"\x00%s%d" % (salt, i)).digest() for i in range(size, size + step)
            ]
            result = merkle.integrate(memory, size, leaves)
            memory.apply(result)
            with sqlite.transaction():
                sqlite.write_tiles(result.tiles)
            size += step
        build_seconds += time.perf_counter() - start
        root = merkle.tile_root(memory, size)
        levels = math.log2(size)
        _out(
            f"\n  n = {size:,} (log2 n = {levels:.1f}; tiles built in {build_seconds:.1f} s so far)"
        )
        indexes = [rng.randrange(size) for _ in range(args.proofs)]
        olds = [rng.randrange(1, size) for _ in range(args.proofs)]
        for name, store in (("memory", memory), ("sqlite", sqlite)):
            incl = [
                (lambda i=i, s=store, n=size: merkle.tile_inclusion_proof(s, i, n)) for i in indexes
            ]
            cons = [
                (lambda o=o, s=store, n=size: merkle.tile_consistency_proof(s, o, n)) for o in olds
            ]
            _clear_tile_cache()
            first = _time_each(incl)
            warm = _time_each(incl)
            cold = _time_each(incl[: max(1, len(incl) // 10)], clear_each=True)
            _clear_tile_cache()
            cfirst = _time_each(cons)
            cwarm = _time_each(cons)
            unit = 1e3 / hash_rate  # one SHA-256, in ms
            for label, times in (
                ("inclusion   first pass", first),
                ("inclusion   warm      ", warm),
                ("inclusion   cold each ", cold),
                ("consistency first pass", cfirst),
                ("consistency warm      ", cwarm),
            ):
                mean_ms = statistics.fmean(times) * 1e3
                _out(
                    f"    {name:<6} {label} {_summary(times)}  "
                    f"= {mean_ms / unit:6.0f} SHA-256 times "
                    f"({mean_ms / unit / levels:5.1f} per level)"
                )
        # Spot-check correctness against the root.
        for i, o in zip(indexes[:50], olds[:50], strict=True):
            merkle.verify_inclusion(
                memory_leaf(memory, i), i, size, merkle.tile_inclusion_proof(sqlite, i, size), root
            )
            old_root = merkle.tile_root(memory, o)
            merkle.verify_consistency(
                o, size, merkle.tile_consistency_proof(sqlite, o, size), old_root, root
            )
    ids = [merkle.TileId(0, rng.randrange(size // merkle.TILE_WIDTH)) for _ in range(2000)]
    start = time.perf_counter()
    for tid in ids:
        sqlite.read_tiles([tid])
    per_read = (time.perf_counter() - start) / len(ids)
    _out(f"\n  SqliteStore.read_tiles, one full tile: {per_read * 1e6:.1f} us")
    _out("  target: inclusion <= 0.2 ms at 1M leaves, cost growing as log n")
    sqlite.close()


def memory_leaf(store: merkle.MemoryTileStore, index: int) -> bytes:
    tile = store.tiles[merkle.TileId(0, index // merkle.TILE_WIDTH)]
    offset = index % merkle.TILE_WIDTH * merkle.HASH_SIZE
    return tile[offset : offset + merkle.HASH_SIZE]


# --- mirror ---------------------------------------------------------------------------------------


def bench_mirror(
    log: Log, keys: Keys, workdir: Path, verify_rate: float, hash_rate: float, chunk: int
) -> None:
    source = log.store
    size = log.size()
    note = log.checkpoint_note()
    _out(f"\n## mirror verification: {size:,} entries of the appended log")
    entries = source.registry_entries(0, size)  # type: ignore[attr-defined]
    policy = LogPolicy(ORIGIN, (keys.checkpoint_signer.verifier(),))

    # (a) What node/mirror.py does after fetching (no HTTP here): a signer-less Log re-admits each
    # chunk into the mirror's own SQLite file, then the chunk's root is proven a prefix of the
    # signed checkpoint (consistency proof from the source) or, at the end, equal to it.
    store = SqliteStore(workdir / "mirror.sqlite")
    mirror_log = Log(
        store,
        origin=ORIGIN,
        policy=keys.policy,
        sign_checkpoint=None,
        row_factory=entry_row,
        now=lambda: TIME,
    )
    start = time.perf_counter()
    target = verify_checkpoint(policy, note, now=0).checkpoint
    done = 0
    while done < size:
        end = min(size, done + chunk)
        with store.transaction():
            for outcome in mirror_log.append_many(entries[done:end]):
                if isinstance(outcome, Exception):
                    raise SystemExit(f"mirror refused an entry: {outcome}")
            root = merkle.tile_root(store, end)
            if end < size:
                proof = merkle.tile_consistency_proof(source, end, size)
                merkle.verify_consistency(end, size, proof, root, target.root_hash)
            elif root != target.root_hash:
                raise SystemExit("mirror: recomputed root does not match the checkpoint")
        done = end
    elapsed = time.perf_counter() - start
    store.close()
    rate = _rate(size, elapsed)
    _out(
        f"  node/mirror path (Log re-admission into SQLite, chunks of {chunk:,}): "
        f"{rate:7,.0f} entries/s ({1e6 / rate:4.0f} us/entry) = "
        f"{verify_rate / rate:4.2f}x the Ed25519-verify floor ({1e6 / verify_rate:4.0f} us)"
    )

    # (b) The checks alone, in memory, timed by phase: where a mirror's time goes.
    phases = {"parse_entry": 0.0, "authorise (verify)": 0.0, "chain + leaf hash": 0.0, "tree": 0.0}
    clock = time.perf_counter
    start = clock()
    checkpoint = open_checkpoint(note, [keys.checkpoint_signer.verifier()], origin=ORIGIN)
    writers = WriterSet(keys.policy)
    heads: dict[str, int] = {}
    leaves = []
    for index, data in enumerate(entries):
        t0 = clock()
        entry = parse_entry(data, expected_log=ORIGIN)
        t1 = clock()
        writers.authorize(entry)
        writers.apply(entry, index)
        t2 = clock()
        if heads.get(entry.subject) != entry.prev:
            raise SystemExit(f"subject chain broken at {index}")
        heads[entry.subject] = index
        leaves.append(merkle.leaf_hash(data))
        t3 = clock()
        phases["parse_entry"] += t1 - t0
        phases["authorise (verify)"] += t2 - t1
        phases["chain + leaf hash"] += t3 - t2
    t4 = clock()
    tiles = merkle.MemoryTileStore()
    for i in range(0, len(leaves), 1 << 16):
        tiles.apply(merkle.integrate(tiles, i, leaves[i : i + (1 << 16)]))
    if merkle.tile_root(tiles, size) != checkpoint.checkpoint.root_hash:
        raise SystemExit("mirror: recomputed root does not match the checkpoint")
    phases["tree"] += clock() - t4
    elapsed = clock() - start
    rate = _rate(size, elapsed)
    _out(
        f"  checks only, in memory:                         {rate:7,.0f} entries/s "
        f"({1e6 / rate:4.0f} us/entry) = {verify_rate / rate:4.2f}x the floor  (target <= 1.3x)"
    )
    for name, seconds in phases.items():
        _out(f"    {name:<20} {seconds / size * 1e6:6.1f} us/entry")
    _out(f"    (tree recompute = {hash_rate * phases['tree'] / size:4.1f} SHA-256 times per entry)")


# --- main -----------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes", default="10000,100000,1000000,10000000", help="tree sizes for proofs"
    )
    parser.add_argument("--proofs", type=int, default=2000, help="proofs per size and kind")
    parser.add_argument("--appends", type=int, default=20000, help="signed entries to append")
    parser.add_argument("--threads", type=int, default=32, help="client threads (concurrent shape)")
    parser.add_argument(
        "--mirror-chunk",
        type=int,
        default=CHUNK_BUNDLES * merkle.TILE_WIDTH,
        help="entries per verified mirror chunk (node/mirror.py's)",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the admission path")
    parser.add_argument("--skip", default="", help="comma list of: append,proofs,mirror")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--workdir", help="where to put the SQLite files (default: a temp dir)")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.proofs, args.appends = "1000,10000", 200, 1000
    skip = set(filter(None, args.skip.split(",")))

    started = time.perf_counter()
    _out(
        f"# registry benchmark  (python {sys.version.split()[0]}, {os.cpu_count()} cpus, "
        f"load average {os.getloadavg()[0]:.2f})"
    )
    verify_rate = ed25519_floor(5000, 400)
    hash_rate = sha256_floor(300_000)
    _out("\n## floors (cryptography / hashlib, no project code)")
    _out(f"  Ed25519 verify   {verify_rate:10,.0f} /s  ({1e6 / verify_rate:6.1f} us)")
    _out(f"  SHA-256 (65 B)   {hash_rate:10,.0f} /s  ({1e6 / hash_rate:6.3f} us)")

    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        workdir = Path(tmp)
        keys = Keys()
        log = None
        if "append" not in skip or "mirror" not in skip:
            log = bench_appends(args, keys, workdir, verify_rate)
        if "proofs" not in skip:
            bench_proofs(args, workdir, hash_rate)
        if "mirror" not in skip and log is not None:
            bench_mirror(log, keys, workdir, verify_rate, hash_rate, args.mirror_chunk)
        if log is not None:
            log.store.close()
    _out(
        f"\n(total {time.perf_counter() - started:.0f} s; "
        f"load average now {os.getloadavg()[0]:.2f}: other processes skew every figure)"
    )


if __name__ == "__main__":
    main()
