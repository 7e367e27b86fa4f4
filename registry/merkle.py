"""RFC 9162 Merkle trees, and their storage as C2SP tlog-tiles.

Three layers, each checked against the one above it in the tests:

* **Definitions** (RFC 9162 §2.1.1 MTH, §2.1.3.1 PATH, §2.1.4.1 PROOF/SUBPROOF): ``root``,
  ``inclusion_proof`` and ``consistency_proof`` over a list of leaf hashes, written literally from
  the RFC recursion. O(n); they are the oracle, never the production path.
* **Verifiers** (RFC 9162 §2.1.3.2 and §2.1.4.2): ``verify_inclusion`` and ``verify_consistency``,
  plus the stricter transparency-dev/merkle rules (exact proof length, every hash exactly 32
  bytes, ``index < size``, consistency from size 0 is an error, equal sizes need an empty proof).
  They return ``None`` or raise ``InclusionProofInvalid`` / ``ConsistencyProofInvalid``.
* **Tiles** (C2SP tlog-tiles, "Merkle Tree" and "Log entries"): the tree is stored as tiles of
  height 8. The level-L tile N holds up to 256 hashes, hash i being
  ``MTH(D[(N*256+i) * 256**L : (N*256+i+1) * 256**L])``; level 0 holds leaf hashes. Right-edge
  tiles are *partial* (1..255 hashes) and are never hashed into the level above. ``integrate``
  appends a batch reading only the right-edge partial tiles (O(batch + log n) hashes);
  ``tile_root`` / ``tile_inclusion_proof`` / ``tile_consistency_proof`` answer for any size up to
  the current one reading O(log n) tiles. Entry bundles (``tile/entries/N``) are sequences of
  big-endian uint16 length-prefixed entries.

  Tiles store only their bottom row, so a proof needs the tiles' inner nodes. They are hashed
  once per tile *content* and kept in a bounded, process-wide LRU (``_TileCache``, 64 MiB by
  default); every computation still reads its tiles from the store and uses a cached entry only
  if the bytes read are equal to the ones it was computed from, so the functions stay pure
  (a grown partial tile, a rewritten tile or another store's tile just misses). A warm proof is
  then one slice per level plus the right border's few hashes; a tile seen for the first time
  costs its 255 inner hashes, as every proof did before.

Tile paths (``tile/<L>/<N>[.p/<W>]``, ``tile/entries/<N>[.p/<W>]``) are parsed strictly: only the
one canonical spelling of each resource is accepted, so a hostile path can never alias another
resource or escape the tile namespace.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from errors import InvalidValue
from registry.errors import (
    ConsistencyProofInvalid,
    InclusionProofInvalid,
    MissingTile,
    TilePathInvalid,
)

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MAX_ENTRY_SIZE",
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "BundleReader",
    "BundleStore",
    "Integration",
    "MemoryTileStore",
    "TileId",
    "TilePath",
    "TileReader",
    "TileStore",
    "consistency_proof",
    "decode_bundle",
    "encode_bundle",
    "inclusion_proof",
    "integrate",
    "integrate_entries",
    "leaf_hash",
    "node_hash",
    "root",
    "tile_consistency_proof",
    "tile_inclusion_proof",
    "tile_root",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT  # 256 hashes, 8,192 bytes per full tile
FULL_TILE_BYTES = TILE_WIDTH * HASH_SIZE
MAX_ENTRY_SIZE = 0xFFFF  # entry bundles length-prefix entries with a uint16
MAX_TREE_SIZE = (1 << 64) - 1  # checkpoints carry a uint64 tree size

# RFC 9162 §2.1.1: the hash of an empty list is the hash of an empty string.
EMPTY_ROOT = hashlib.sha256(b"").digest()

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 §2.1.1: ``SHA-256(0x00 || data)``; the 0x00 prefix separates leaves from nodes."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1: ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n >= 2): the RFC's ``k``."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_size(value: object, what: str) -> int:
    # bool is an int subclass; a True "size" is always a caller bug.
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidValue(f"{what} must be an integer", field=what)
    if value < 0 or value > MAX_TREE_SIZE:
        raise InvalidValue(f"{what} out of range", field=what)
    return value


def _check_hash(value: object, what: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise InvalidValue(f"{what} must be {HASH_SIZE} bytes", field=what)
    return value


# --- the RFC definitions (reference oracle) ------------------------------------------------------


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over already-hashed leaves (RFC 9162 §2.1.1). Reference implementation, O(n)."""
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hashes[0]
    k = _split(n)
    return node_hash(root(leaf_hashes[:k]), root(leaf_hashes[k:]))


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(m, D[n]) (RFC 9162 §2.1.3.1). Reference implementation, O(n)."""
    _check_size(index, "index")
    if index >= len(leaf_hashes):
        raise InvalidValue("index must be smaller than the tree size", field="index")
    return _path(index, leaf_hashes)


def _path(m: int, d: Sequence[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return [*_path(m, d[:k]), root(d[k:])]
    return [*_path(m - k, d[k:]), root(d[:k])]


def consistency_proof(leaf_hashes: Sequence[bytes], size1: int) -> list[bytes]:
    """PROOF(m, D[n]) (RFC 9162 §2.1.4.1) for 0 < m <= n. Reference implementation, O(n)."""
    _check_size(size1, "size1")
    if not 0 < size1 <= len(leaf_hashes):
        raise InvalidValue("need 0 < size1 <= tree size", field="size1")
    return _subproof(size1, leaf_hashes, True)


def _subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [root(d)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, d[:k], b), root(d[k:])]
    return [*_subproof(m - k, d[k:], False), root(d[:k])]


# --- verifiers ------------------------------------------------------------------------------------


def _inclusion_shape(index: int, size: int) -> tuple[int, int]:
    """(inner, border): proof hashes below / on the right border where leaf and last leaf part."""
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    return inner, border


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` with ``root``.

    RFC 9162 §2.1.3.2, after the transparency-dev length checks. Raises ``InclusionProofInvalid``.
    """
    _check_size(index, "index")
    _check_size(size, "size")
    if index >= size:
        raise InclusionProofInvalid("index is not smaller than the tree size")
    _check_proof_hashes(InclusionProofInvalid, [leaf_hash, *proof], root)
    inner, border = _inclusion_shape(index, size)
    # Exact length first: the RFC loop alone would accept some padded proofs that a careful
    # verifier must not (and it makes every malformed proof fail the same early way).
    if len(proof) != inner + border:
        raise InclusionProofInvalid("wrong number of proof hashes")
    fn, sn = index, size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:
            raise InclusionProofInvalid("proof longer than the path")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0 or r != root:
        raise InclusionProofInvalid("computed root does not match")


def _consistency_length(size1: int, size2: int) -> int:
    # The proof climbs from the last leaf of tree 1 in tree 2, minus the levels below the
    # largest perfect subtree that ends tree 1; that subtree's hash is included unless it is
    # tree 1 itself (size1 a power of two), when the verifier already knows it as root1.
    shift = (size1 & -size1).bit_length() - 1
    inner, border = _inclusion_shape(size1 - 1, size2)
    seed = 0 if size1 == 1 << shift else 1
    return seed + inner - shift + border


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that the tree of ``size1``/``root1`` is a prefix of the tree of ``size2``/``root2``.

    RFC 9162 §2.1.4.2 with the transparency-dev rules: size1 = 0 is an error (a proof from the
    empty tree proves nothing; protocols that start from 0 special-case it), size1 = size2 needs
    an empty proof and equal roots, size1 > size2 is an error. Raises ``ConsistencyProofInvalid``.
    """
    _check_size(size1, "size1")
    _check_size(size2, "size2")
    _check_proof_hashes(ConsistencyProofInvalid, proof, root1, root2)
    if size1 == 0:
        raise ConsistencyProofInvalid("consistency with the empty tree is not a proof")
    if size1 > size2:
        raise ConsistencyProofInvalid("size1 is larger than size2")
    if size1 == size2:
        if proof:
            raise ConsistencyProofInvalid("proof between equal sizes must be empty")
        if root1 != root2:
            raise ConsistencyProofInvalid("different roots for the same size")
        return
    if not proof:
        raise ConsistencyProofInvalid("empty proof")
    if len(proof) != _consistency_length(size1, size2):
        raise ConsistencyProofInvalid("wrong number of proof hashes")
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ConsistencyProofInvalid("proof longer than the path")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0 or fr != root1 or sr != root2:
        raise ConsistencyProofInvalid("computed roots do not match")


def _check_proof_hashes(error: type[Exception], hashes: Sequence[bytes], *roots: object) -> None:
    """Every leaf and proof hash must be exactly 32 bytes (anything else is a forgery attempt).

    Roots are only type-checked: a root of the wrong length can never equal a computed hash, and
    the transparency-dev vectors expect equal-size consistency checks to compare roots verbatim.
    """
    for value in (*hashes, *roots):
        if not isinstance(value, bytes):
            raise InvalidValue("hashes must be bytes")
    for value in hashes:
        if len(value) != HASH_SIZE:
            raise error(f"hash of {len(value)} bytes, want {HASH_SIZE}")


# --- tiles: identity, paths -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class TileId:
    """A Merkle tile by position: ``level`` L (0..63) and ``index`` N within the level."""

    level: int
    index: int

    def __post_init__(self) -> None:
        if not 0 <= self.level <= 63 or self.index < 0:
            raise InvalidValue("tile level must be 0..63 and index non-negative")


_TILE_PATH_RE = re.compile(
    r"tile/(entries|0|[1-9][0-9]?)/((?:x[0-9]{3}/)*[0-9]{3})(?:\.p/([1-9][0-9]{0,2}))?",
    re.ASCII,
)
# 2**64 needs 20 digits = 7 groups; anything longer is refused before the regex runs.
_MAX_TILE_PATH = len("tile/entries/") + 7 * 4 + len(".p/255")


@dataclass(frozen=True, slots=True)
class TilePath:
    """A tlog-tiles resource: a Merkle tile (``level`` 0..63) or an entry bundle (``level`` None).

    ``width`` is 256 for a full tile and 1..255 for a partial one (``.p/<W>``).
    """

    level: int | None
    index: int
    width: int = TILE_WIDTH

    def __post_init__(self) -> None:
        if self.level is not None and not 0 <= self.level <= 63:
            raise TilePathInvalid("tile level must be 0..63")
        if not 1 <= self.width <= TILE_WIDTH:
            raise TilePathInvalid("tile width must be 1..256")
        # A tile whose first leaf cannot exist in a uint64-sized tree names nothing.
        if self.index < 0 or self.index * TILE_WIDTH ** ((self.level or 0) + 1) > MAX_TREE_SIZE:
            raise TilePathInvalid("tile index out of range")

    @property
    def is_entries(self) -> bool:
        return self.level is None

    @property
    def is_partial(self) -> bool:
        return self.width < TILE_WIDTH

    def __str__(self) -> str:
        level = "entries" if self.level is None else str(self.level)
        suffix = f".p/{self.width}" if self.width < TILE_WIDTH else ""
        return f"tile/{level}/{_encode_index(self.index)}{suffix}"

    @classmethod
    def parse(cls, path: str) -> TilePath:
        """Parse ``tile/<L>/<N>[.p/<W>]`` or ``tile/entries/<N>[.p/<W>]`` (no prefix, no slash).

        Only the canonical form is accepted: 3-digit groups with ``x`` on all but the last, no
        superfluous leading ``x000/`` group, decimal L and W without leading zeros.
        """
        if not isinstance(path, str) or len(path) > _MAX_TILE_PATH:
            raise TilePathInvalid("not a tile path")
        m = _TILE_PATH_RE.fullmatch(path)
        if m is None:
            raise TilePathInvalid("not a tile path")
        level_text, index_text, width_text = m.groups()
        level = None if level_text == "entries" else int(level_text)
        index = int(index_text.replace("x", "").replace("/", ""))
        width = int(width_text) if width_text is not None else TILE_WIDTH
        if width_text is not None and width >= TILE_WIDTH:
            raise TilePathInvalid("partial tile width must be 1..255")
        parsed = cls(level, index, width)
        # Round-trip: rejects e.g. "x000/001" spelling index 1, which would alias "001".
        if str(parsed) != path:
            raise TilePathInvalid("non-canonical tile path")
        return parsed


def _encode_index(index: int) -> str:
    digits = str(index)
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([f"x{g}" for g in groups[:-1]] + [groups[-1]])


# --- tiles: storage protocols ---------------------------------------------------------------------


class TileReader(Protocol):
    """Read access to stored Merkle tiles (what the storage layer implements).

    ``read_tiles`` returns, for each requested id that exists, the latest stored bytes of that
    tile: 8,192 bytes for a full tile, or the widest partial version written so far (a multiple of
    32 bytes). Hashes in a tile never change once written, so any stored version can serve any
    narrower ``.p/<W>`` request by slicing. Missing ids are simply absent from the result.
    """

    def read_tiles(self, ids: Sequence[TileId]) -> Mapping[TileId, bytes]: ...


class TileStore(TileReader, Protocol):
    """A ``TileReader`` that can also persist the tiles an ``Integration`` produced."""

    def write_tiles(self, tiles: Mapping[TileId, bytes]) -> None: ...


class BundleReader(Protocol):
    """Read access to stored entry bundles (``tile/entries/<N>``), latest version per index."""

    def read_bundles(self, indexes: Sequence[int]) -> Mapping[int, bytes]: ...


class BundleStore(BundleReader, Protocol):
    def write_bundles(self, bundles: Mapping[int, bytes]) -> None: ...


@dataclass(slots=True)
class MemoryTileStore:
    """In-memory ``TileStore`` + ``BundleStore`` for tests and tools (not thread-safe)."""

    tiles: dict[TileId, bytes] = field(default_factory=dict)
    bundles: dict[int, bytes] = field(default_factory=dict)
    size: int = 0
    reads: int = 0  # number of tiles handed out, so tests can check the O(log n) claims

    def read_tiles(self, ids: Sequence[TileId]) -> Mapping[TileId, bytes]:
        found = {i: self.tiles[i] for i in ids if i in self.tiles}
        self.reads += len(found)
        return found

    def write_tiles(self, tiles: Mapping[TileId, bytes]) -> None:
        self.tiles.update(tiles)

    def read_bundles(self, indexes: Sequence[int]) -> Mapping[int, bytes]:
        return {i: self.bundles[i] for i in indexes if i in self.bundles}

    def write_bundles(self, bundles: Mapping[int, bytes]) -> None:
        self.bundles.update(bundles)

    def apply(self, integration: Integration) -> None:
        """Persist an integration (the storage layer does this in one transaction)."""
        if integration.old_size != self.size:
            raise InvalidValue("integration was computed for another tree size")
        self.write_tiles(integration.tiles)
        self.write_bundles(integration.bundles)
        self.size = integration.new_size


# --- tiles: reading hashes ------------------------------------------------------------------------


def _tile_levels(data: bytes) -> tuple[bytes, ...]:
    """Every complete subtree inside one tile, level by level.

    ``levels[h]`` holds, back to back, the hashes of the ``(len(data) // 32) >> h`` perfect
    subtrees of height ``h`` that the tile's hashes contain (``levels[0]`` is ``data``); a full
    tile has 9 levels, the last being the tile's own hash (the one stored a tile level up). A
    partial tile's right-edge leftovers are not subtrees and are not hashed.
    """
    levels = [data]
    row = data
    sha256 = hashlib.sha256
    step = 2 * HASH_SIZE
    prefix = _NODE_PREFIX
    while len(row) >= step:
        # 0x01 || left || right is the prefix and one slice of the row below: one digest call.
        pairs = [row[i : i + step] for i in range(0, len(row) - len(row) % step, step)]
        row = b"".join([sha256(prefix + pair).digest() for pair in pairs])
        levels.append(row)
    return tuple(levels)


def _levels_cost(levels: tuple[bytes, ...]) -> int:
    return sum(len(level) for level in levels) + 64 * len(levels) + 256


class _TileCache:
    """A bounded, thread-safe LRU of ``_tile_levels`` results, so that proofs stop rehashing.

    Correctness never depends on it: every computation still reads its tiles from the store, and
    an entry is used only when the bytes just read are *equal* to the bytes it was computed from
    (a cheap memcmp). So a tile that grew (a partial tile gaining hashes), a tile rewritten behind
    the log's back, another store's tile with the same id, or a tile from an integration whose
    transaction rolled back can never be answered from a stale entry; they simply miss. Keys are
    the tile id plus the tile's first hash, so two logs in one process (a log and a mirror) do
    not evict each other, while a growing partial tile replaces its narrower versions.
    ``budget`` bounds the bytes held (tile bytes plus inner levels, about 16 KiB per full tile).
    """

    __slots__ = ("_entries", "_lock", "_used", "budget", "hits", "misses")

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._entries: OrderedDict[tuple[TileId, bytes], tuple[bytes, ...]] = OrderedDict()
        self._lock = threading.Lock()
        self._used = 0
        self.hits = 0
        self.misses = 0

    def levels(self, tid: TileId, data: bytes) -> tuple[bytes, ...]:
        key = (tid, data[:HASH_SIZE])
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == data:
                self._entries.move_to_end(key)
                self.hits += 1
                return entry
            self.misses += 1
        levels = _tile_levels(data)
        self._put(key, levels)
        return levels

    def _put(self, key: tuple[TileId, bytes], levels: tuple[bytes, ...]) -> None:
        cost = _levels_cost(levels)
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._used -= _levels_cost(old)
            if cost > self.budget:
                return
            self._entries[key] = levels
            self._used += cost
            while self._used > self.budget:
                _, evicted = self._entries.popitem(last=False)
                self._used -= _levels_cost(evicted)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._used = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def used(self) -> int:
        return self._used


# 64 MiB holds every tile of a tree of about a million leaves (3,900 full tiles at ~16.6 KiB).
_TILE_CACHE = _TileCache(64 << 20)


class _TileHashes:
    """Hash access over tiles for one computation: memoizes the tiles it read and their levels."""

    __slots__ = ("_levels", "_reader", "_tiles")

    def __init__(self, reader: TileReader, overlay: Mapping[TileId, bytes] | None = None) -> None:
        self._reader = reader
        self._tiles: dict[TileId, bytes] = dict(overlay or {})
        self._levels: dict[tuple[int, int], tuple[bytes, ...]] = {}

    def _tile(self, tid: TileId) -> bytes:
        data = self._tiles.get(tid)
        if data is None:
            data = self._reader.read_tiles([tid]).get(tid)
            if data is None:
                raise MissingTile(f"tile {tid.level}/{tid.index} is not stored")
            if len(data) % HASH_SIZE or len(data) > FULL_TILE_BYTES:
                raise MissingTile(f"tile {tid.level}/{tid.index} has a corrupt length")
            self._tiles[tid] = data
        return data

    def _load(self, level: int, index: int) -> tuple[bytes, ...]:
        tid = TileId(level, index)
        data = self._tile(tid)
        if type(data) is not bytes:  # the cache keeps it: never a mutable buffer
            data = bytes(data)
        levels = _TILE_CACHE.levels(tid, data)
        self._levels[level, index] = levels
        return levels

    def prefix(self, level: int, index: int, count: int) -> bytes:
        """The first ``count`` hashes of tile ``level``/``index``, concatenated."""
        data = self._tile(TileId(level, index))
        if len(data) < count * HASH_SIZE:
            raise MissingTile(f"tile {level}/{index} is narrower than the tree needs")
        return bytes(data[: count * HASH_SIZE])

    def node(self, height: int, index: int) -> bytes:
        """Hash of the perfect subtree of ``2**height`` leaves starting at ``index * 2**height``."""
        # The subtree's descendants at tile level `level` are 2**rest consecutive hashes, aligned,
        # hence inside one tile. Tiles store only their bottom row (8 KiB instead of 16); the inner
        # levels are hashed once per tile content and kept in the process-wide cache.
        level, rest = height >> 3, height & 7  # TILE_HEIGHT = 8
        first = index << rest
        tile_index = first >> TILE_HEIGHT
        levels = self._levels.get((level, tile_index))
        if levels is None:
            levels = self._load(level, tile_index)
        offset = first & (TILE_WIDTH - 1)
        if len(levels[0]) < (offset + (1 << rest)) * HASH_SIZE:
            raise MissingTile(f"tile {level}/{tile_index} is narrower than the tree needs")
        pos = (offset >> rest) * HASH_SIZE
        return levels[rest][pos : pos + HASH_SIZE]

    def range_hash(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a subtree of the RFC recursion (start aligned to its span)."""
        pieces: list[bytes] = []
        pos, n = start, end - start
        for height in range(n.bit_length() - 1, -1, -1):
            if n >> height & 1:
                # Invariant of the RFC recursion: each piece starts on its own size boundary.
                if pos & ((1 << height) - 1):
                    raise InvalidValue("range is not a subtree of the RFC recursion")
                pieces.append(self.node(height, pos >> height))
                pos += 1 << height
        acc = pieces[-1]
        for piece in reversed(pieces[:-1]):
            acc = node_hash(piece, acc)
        return acc


def tile_root(reader: TileReader, size: int) -> bytes:
    """MTH of the first ``size`` leaves, from tiles (``size`` must not exceed the stored tree)."""
    _check_size(size, "size")
    return EMPTY_ROOT if size == 0 else _TileHashes(reader).range_hash(0, size)


def _tile_path(hashes: _TileHashes, leaf: int, height: int, size: int) -> list[bytes]:
    """The siblings, bottom-up, of the perfect subtree of height ``height`` that contains leaf
    ``leaf``, on its way to the root of the tree of ``size`` leaves (RFC 9162 §2.1.3.1 PATH
    unrolled, as the verifiers walk it).

    Below the level where the paths to ``leaf`` and to the last leaf part, every sibling is a
    perfect subtree; at that level the sibling is the right-hand rest of the tree,
    MTH(D[start:size]); above it the path runs along the right border, where only left siblings
    (``leaf`` bit set) exist. Costs one cached lookup per level and hashes only the right border.
    """
    node = hashes.node
    inner, _ = _inclusion_shape(leaf, size)
    path = [node(h, (leaf >> h) ^ 1) for h in range(height, inner - 1)]
    if inner > height:
        h = inner - 1
        path.append(hashes.range_hash(((leaf >> h) | 1) << h, size))
    path.extend(node(h, (leaf >> h) ^ 1) for h in range(inner, leaf.bit_length()) if leaf >> h & 1)
    return path


def tile_inclusion_proof(reader: TileReader, index: int, size: int) -> list[bytes]:
    """PATH(index, D[size]) computed from tiles; reads O(log n) tiles."""
    _check_size(index, "index")
    _check_size(size, "size")
    if index >= size:
        raise InvalidValue("index must be smaller than the tree size", field="index")
    return _tile_path(_TileHashes(reader), index, 0, size)


def tile_consistency_proof(reader: TileReader, size1: int, size2: int) -> list[bytes]:
    """PROOF(size1, D[size2]) computed from tiles, for 0 < size1 <= size2; O(log n) tiles."""
    _check_size(size1, "size1")
    _check_size(size2, "size2")
    if not 0 < size1 <= size2:
        raise InvalidValue("need 0 < size1 <= size2", field="size1")
    if size1 == size2:
        return []
    hashes = _TileHashes(reader)
    # SUBPROOF unrolled (as transparency-dev/merkle does): tree 1 ends with a perfect subtree of
    # height `level` (its lowest set bit); the proof is that subtree's hash (the "seed", left out
    # when it is tree 1 itself, i.e. size1 is a power of two: the verifier knows it as root1)
    # followed by the subtree's path to the root of tree 2. Every larger perfect subtree that
    # ends tree 1 starts on a boundary of its own size, so `size1 - 1` lies in this one.
    level = (size1 & -size1).bit_length() - 1
    last = size1 - 1
    seed = [] if size1 == 1 << level else [hashes.node(level, last >> level)]
    return seed + _tile_path(hashes, last, level, size2)


# --- tiles: integration ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Integration:
    """The result of appending a batch: every new or changed tile and bundle, and the new root.

    ``tiles`` maps each touched tile to its complete new content (full, or partial of width
    ``len // 32``); ``bundles`` likewise for entry bundles (empty when only hashes were given).
    """

    old_size: int
    new_size: int
    root: bytes
    tiles: Mapping[TileId, bytes]
    bundles: Mapping[int, bytes]


def integrate(reader: TileReader, size: int, leaf_hashes: Sequence[bytes]) -> Integration:
    """Append ``leaf_hashes`` to the tree of ``size`` leaves stored in ``reader``.

    Reads only the right-edge partial tile of each level it touches, and hashes O(batch + log n)
    nodes. Nothing is written: the caller persists ``tiles`` and the new size atomically.
    """
    _check_size(size, "size")
    if not all(type(h) is bytes and len(h) == HASH_SIZE for h in leaf_hashes):
        for h in leaf_hashes:
            _check_hash(h, "leaf hash")
    new_size = size + len(leaf_hashes)
    _check_size(new_size, "new size")
    hashes = _TileHashes(reader)
    tiles: dict[TileId, bytes] = {}
    pending = b"".join(leaf_hashes)
    level, start = 0, size  # `start` = hashes already at this tile level
    while pending and level < 64:
        index, offset = divmod(start, TILE_WIDTH)
        # Only the existing partial tile's first `offset` hashes are trusted: anything beyond
        # would be the residue of an integration that never committed its new size.
        row = hashes.prefix(level, index, offset) + pending if offset else pending
        full = len(row) // FULL_TILE_BYTES
        completed: list[bytes] = []
        for i in range(full):
            tid = TileId(level, index + i)
            tile = row[i * FULL_TILE_BYTES : (i + 1) * FULL_TILE_BYTES]
            tiles[tid] = tile
            # The tile's inner levels go to the cache: the root below and the next proofs use them.
            completed.append(_TILE_CACHE.levels(tid, tile)[-1])
        if len(row) > full * FULL_TILE_BYTES:
            tiles[TileId(level, index + full)] = row[full * FULL_TILE_BYTES :]
        # Partial tiles are never hashed upward: only completed tiles feed the next level.
        pending = b"".join(completed)
        start //= TILE_WIDTH
        level += 1
    new_root = EMPTY_ROOT if new_size == 0 else _TileHashes(reader, tiles).range_hash(0, new_size)
    return Integration(size, new_size, new_root, tiles, {})


def integrate_entries(
    tiles: TileReader, bundles: BundleReader, size: int, entries: Sequence[bytes]
) -> Integration:
    """Like ``integrate`` for raw entries: also produces the new/updated entry bundles."""
    _check_size(size, "size")
    for entry in entries:
        if not isinstance(entry, bytes) or len(entry) > MAX_ENTRY_SIZE:
            raise InvalidValue(f"entries must be bytes of at most {MAX_ENTRY_SIZE} bytes")
    index, offset = divmod(size, TILE_WIDTH)
    current: list[bytes] = []
    if offset:
        stored = bundles.read_bundles([index]).get(index)
        if stored is None:
            raise MissingTile(f"entry bundle {index} is not stored")
        current = decode_bundle(stored)
        if len(current) < offset:
            raise MissingTile(f"entry bundle {index} is narrower than the tree needs")
        current = current[:offset]
    new_bundles: dict[int, bytes] = {}
    for entry in entries:
        current.append(entry)
        if len(current) == TILE_WIDTH:
            new_bundles[index] = encode_bundle(current)
            index += 1
            current = []
    if current and entries:
        new_bundles[index] = encode_bundle(current)
    result = integrate(tiles, size, [leaf_hash(e) for e in entries])
    return Integration(result.old_size, result.new_size, result.root, result.tiles, new_bundles)


# --- entry bundles --------------------------------------------------------------------------------


def encode_bundle(entries: Iterable[bytes]) -> bytes:
    """Entry bundle bytes: each entry as a big-endian uint16 length followed by its bytes."""
    out = bytearray()
    count = 0
    for entry in entries:
        if not isinstance(entry, bytes) or len(entry) > MAX_ENTRY_SIZE:
            raise InvalidValue(f"entries must be bytes of at most {MAX_ENTRY_SIZE} bytes")
        out += len(entry).to_bytes(2, "big") + entry
        count += 1
    if count > TILE_WIDTH:
        raise InvalidValue("a bundle holds at most 256 entries")
    return bytes(out)


def decode_bundle(data: bytes, *, width: int | None = None) -> list[bytes]:
    """Parse an entry bundle strictly: no truncated entry, no trailing bytes, at most 256 entries
    (exactly ``width`` when given)."""
    entries: list[bytes] = []
    pos = 0
    while pos < len(data):
        if len(data) - pos < 2:
            raise InvalidValue("truncated entry length in bundle")
        n = int.from_bytes(data[pos : pos + 2], "big")
        pos += 2
        if len(data) - pos < n:
            raise InvalidValue("truncated entry in bundle")
        entries.append(bytes(data[pos : pos + n]))
        pos += n
        if len(entries) > TILE_WIDTH:
            raise InvalidValue("a bundle holds at most 256 entries")
    if width is not None and len(entries) != width:
        raise InvalidValue(f"bundle has {len(entries)} entries, want {width}")
    return entries
