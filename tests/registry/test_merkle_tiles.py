"""Tile-backed tree (C2SP tlog-tiles) against the RFC 9162 reference definitions."""

from __future__ import annotations

import functools
import hashlib
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from errors import Error, InvalidValue
from registry import merkle
from registry.errors import MissingTile, TilePathInvalid


def _leaves(n: int, salt: bytes = b"") -> list[bytes]:
    return [merkle.leaf_hash(salt + i.to_bytes(4, "big")) for i in range(n)]


SMALL = _leaves(128)
BIG_SIZE = 70_000  # the tlog-tiles spec's own example size
BIG = _leaves(BIG_SIZE, b"big")


def _store(leaves: list[bytes]) -> merkle.MemoryTileStore:
    store = merkle.MemoryTileStore()
    store.apply(merkle.integrate(store, 0, leaves))
    return store


SMALL_STORE = _store(SMALL)


@functools.cache
def _big_store() -> merkle.MemoryTileStore:
    return _store(BIG)


@functools.cache
def _mth(lo: int, hi: int) -> bytes:
    """Memoized RFC MTH over BIG[lo:hi], an independent oracle fast enough for 70k leaves."""
    if hi - lo == 1:
        return BIG[lo]
    k = 1 << ((hi - lo - 1).bit_length() - 1)
    return merkle.node_hash(_mth(lo, lo + k), _mth(lo + k, hi))


def _oracle_path(m: int, lo: int, hi: int) -> list[bytes]:
    if hi - lo == 1:
        return []
    k = 1 << ((hi - lo - 1).bit_length() - 1)
    if m < lo + k:
        return [*_oracle_path(m, lo, lo + k), _mth(lo + k, hi)]
    return [*_oracle_path(m, lo + k, hi), _mth(lo, lo + k)]


def _flip(h: bytes, bit: int) -> bytes:
    return h[: bit // 8] + bytes([h[bit // 8] ^ (1 << (bit % 8))]) + h[bit // 8 + 1 :]


# --- inclusion -----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", range(1, 129))
def test_inclusion_every_index_matches_reference_and_verifies(size: int) -> None:
    leaves = SMALL[:size]
    r = merkle.root(leaves)
    assert merkle.tile_root(SMALL_STORE, size) == r
    for index in range(size):
        proof = merkle.tile_inclusion_proof(SMALL_STORE, index, size)
        assert proof == merkle.inclusion_proof(leaves, index)
        merkle.verify_inclusion(leaves[index], index, size, proof, r)


@pytest.mark.parametrize("size", range(1, 65))
def test_tampered_inclusion_proofs_fail(size: int) -> None:
    leaves = SMALL[:size]
    r = merkle.root(leaves)
    extra = hashlib.sha256(b"extra").digest()
    for index in range(size):
        proof = merkle.inclusion_proof(leaves, index)
        bad: list[tuple[bytes, int, int, list[bytes], bytes]] = []
        for i, h in enumerate(proof):
            bad += [
                (leaves[index], index, size, [*proof[:i], _flip(h, b), *proof[i + 1 :]], r)
                for b in (0, 100, 255)
            ]
            bad.append((leaves[index], index, size, proof[:i] + proof[i + 1 :], r))
            bad.append((leaves[index], index, size, [*proof[:i], h + b"\x00", *proof[i + 1 :]], r))
        bad.append((leaves[index], index, size, [*proof, extra], r))
        bad.append((leaves[index], index, size, [extra, *proof], r))
        bad.append((_flip(leaves[index], 7), index, size, proof, r))
        bad.append((leaves[index], index, size, proof, _flip(r, 3)))
        for other in {index - 1, index + 1, index ^ 1} - {index}:
            bad.append((leaves[index], other, size, proof, r))
        for other_size in {size - 1, size + 1, size * 2} - {size}:
            if other_size > 0:
                other_root = merkle.root(SMALL[:other_size]) if other_size <= 128 else r
                bad.append((leaves[index], index, other_size, proof, other_root))
        for args in bad:
            with pytest.raises(Error):
                merkle.verify_inclusion(*args)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_inclusion_in_a_multi_level_tree(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, BIG_SIZE))
    index = data.draw(st.integers(0, size - 1))
    store = _big_store()
    proof = merkle.tile_inclusion_proof(store, index, size)
    assert proof == _oracle_path(index, 0, size)
    root = merkle.tile_root(store, size)
    assert root == _mth(0, size)
    merkle.verify_inclusion(BIG[index], index, size, proof, root)


# --- consistency ---------------------------------------------------------------------------------


@pytest.mark.parametrize("size2", range(1, 65))
def test_consistency_all_pairs_match_reference_and_verify(size2: int) -> None:
    leaves = SMALL[:size2]
    r2 = merkle.root(leaves)
    for size1 in range(1, size2 + 1):
        proof = merkle.tile_consistency_proof(SMALL_STORE, size1, size2)
        assert proof == merkle.consistency_proof(leaves, size1)
        merkle.verify_consistency(size1, size2, proof, merkle.root(SMALL[:size1]), r2)


@pytest.mark.parametrize("size2", range(2, 65))
def test_tampered_consistency_proofs_fail(size2: int) -> None:
    r2 = merkle.root(SMALL[:size2])
    extra = hashlib.sha256(b"extra").digest()
    for size1 in range(1, size2):
        r1 = merkle.root(SMALL[:size1])
        proof = merkle.consistency_proof(SMALL[:size2], size1)
        bad: list[tuple[int, int, list[bytes], bytes, bytes]] = []
        for i, h in enumerate(proof):
            bad += [
                (size1, size2, [*proof[:i], _flip(h, b), *proof[i + 1 :]], r1, r2)
                for b in (0, 128, 255)
            ]
            bad.append((size1, size2, proof[:i] + proof[i + 1 :], r1, r2))
        bad.append((size1, size2, [*proof, extra], r1, r2))
        bad.append((size1, size2, [extra, *proof], r1, r2))
        bad.append((size1, size2, proof, _flip(r1, 1), r2))
        bad.append((size1, size2, proof, r1, _flip(r2, 1)))
        bad.append((size1, size2, proof, r2, r1))
        for other in {size1 - 1, size1 + 1} - {0}:
            bad.append((other, size2, proof, merkle.root(SMALL[:other]), r2))
        for other in {size2 - 1, size2 + 1} - {size1}:
            bad.append((size1, other, proof, r1, merkle.root(SMALL[:other])))
        for args in bad:
            with pytest.raises(Error):
                merkle.verify_consistency(*args)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_consistency_in_a_multi_level_tree(data: st.DataObject) -> None:
    size2 = data.draw(st.integers(1, BIG_SIZE))
    size1 = data.draw(st.integers(1, size2))
    store = _big_store()
    proof = merkle.tile_consistency_proof(store, size1, size2)
    merkle.verify_consistency(size1, size2, proof, _mth(0, size1), _mth(0, size2))


# --- integration ---------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    total=st.integers(0, 1300),
    cuts=st.lists(st.integers(0, 1300), max_size=12),
    bundles=st.booleans(),
)
def test_integration_in_any_batch_split_gives_the_same_tiles(
    total: int, cuts: list[int], bundles: bool
) -> None:
    entries = [i.to_bytes(3, "big") * (i % 5) for i in range(total)]
    leaves = [merkle.leaf_hash(e) for e in entries]
    whole = merkle.MemoryTileStore()
    if bundles:
        whole.apply(merkle.integrate_entries(whole, whole, 0, entries))
    else:
        whole.apply(merkle.integrate(whole, 0, leaves))
    split = merkle.MemoryTileStore()
    bounds = sorted({0, total, *(c for c in cuts if c <= total)})
    for lo, hi in itertools.pairwise(bounds):
        if bundles:
            result = merkle.integrate_entries(split, split, split.size, entries[lo:hi])
        else:
            result = merkle.integrate(split, split.size, leaves[lo:hi])
        assert result.root == merkle.root(leaves[:hi])
        split.apply(result)
    assert split.size == whole.size == total
    assert split.tiles == whole.tiles
    assert split.bundles == whole.bundles
    assert merkle.tile_root(split, total) == merkle.root(leaves)
    if bundles:
        for index, data in whole.bundles.items():
            decoded = merkle.decode_bundle(data)
            assert decoded == entries[index * 256 : index * 256 + len(decoded)]


def test_tiles_of_the_spec_example_size() -> None:
    # tlog-tiles: "a tree of size 70,000 will be represented by 273 full level 0 tiles, one
    # partial level 0 tile of width 112, one full level 1 tile, one partial level 1 tile of
    # width 17, and one partial level 2 tile of width 1."
    store = _big_store()
    widths = {tid: len(data) // 32 for tid, data in store.tiles.items()}
    level0 = [w for t, w in widths.items() if t.level == 0]
    assert level0.count(256) == 273 and sorted(level0)[0] == 112 and len(level0) == 274
    assert sorted(w for t, w in widths.items() if t.level == 1) == [17, 256]
    assert [w for t, w in widths.items() if t.level == 2] == [1]
    assert len(widths) == 277
    # A level-1 hash is the MTH of the corresponding full level-0 tile.
    assert store.tiles[merkle.TileId(1, 0)][:32] == _mth(0, 256)
    assert store.tiles[merkle.TileId(2, 0)] == _mth(0, 65536)
    # A tree of size 256: a full level 0 tile and a partial level 1 tile of width 1.
    s256 = _store(SMALL[:1] * 256)
    assert {t: len(d) // 32 for t, d in s256.tiles.items()} == {
        merkle.TileId(0, 0): 256,
        merkle.TileId(1, 0): 1,
    }


def test_integration_and_proofs_read_few_tiles() -> None:
    base = _big_store()
    store = merkle.MemoryTileStore(dict(base.tiles), {}, base.size)
    store.reads = 0
    result = merkle.integrate(store, store.size, [merkle.leaf_hash(b"one more")])
    assert store.reads <= 3  # one right-edge partial tile per level
    assert set(result.tiles) == {merkle.TileId(0, 273)}
    store.reads = 0
    merkle.tile_inclusion_proof(store, 12345, BIG_SIZE)
    assert store.reads <= 8
    store.reads = 0
    merkle.tile_consistency_proof(store, 33333, BIG_SIZE)
    assert store.reads <= 10


def test_missing_or_short_tiles_are_reported() -> None:
    store = _store(SMALL[:100])
    with pytest.raises(MissingTile):
        merkle.tile_root(store, 101)
    with pytest.raises(MissingTile):
        merkle.tile_inclusion_proof(store, 0, 300)
    with pytest.raises(MissingTile):
        merkle.integrate(merkle.MemoryTileStore(), 5, SMALL[:1])
    with pytest.raises(InvalidValue):
        merkle.integrate(store, 100, [b"short"])
    with pytest.raises(InvalidValue):
        merkle.tile_inclusion_proof(store, 100, 100)
    with pytest.raises(InvalidValue):
        merkle.tile_consistency_proof(store, 0, 10)
    assert merkle.tile_root(store, 0) == merkle.EMPTY_ROOT
    assert merkle.integrate(store, 100, []).tiles == {}


def test_reference_functions_refuse_bad_arguments() -> None:
    with pytest.raises(InvalidValue):
        merkle.inclusion_proof(SMALL[:4], 4)
    with pytest.raises(InvalidValue):
        merkle.consistency_proof(SMALL[:4], 0)
    with pytest.raises(InvalidValue):
        merkle.verify_inclusion(SMALL[0], True, 1, [], SMALL[0])  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        merkle.verify_inclusion(SMALL[0], -1, 1, [], SMALL[0])
    assert merkle.root([]) == merkle.EMPTY_ROOT


# --- tile paths and bundles ----------------------------------------------------------------------


def test_tile_path_examples() -> None:
    assert str(merkle.TilePath(0, 1234067)) == "tile/0/x001/x234/067"
    assert str(merkle.TilePath(2, 5, 17)) == "tile/2/005.p/17"
    assert str(merkle.TilePath(None, 1000)) == "tile/entries/x001/000"
    assert str(merkle.TilePath(None, 0, 255)) == "tile/entries/000.p/255"
    assert merkle.TilePath.parse("tile/63/000") == merkle.TilePath(63, 0)
    parsed = merkle.TilePath.parse("tile/entries/x001/x234/067.p/8")
    assert parsed == merkle.TilePath(None, 1234067, 8)
    assert parsed.is_entries and parsed.is_partial


@given(
    level=st.one_of(st.none(), st.integers(0, 7)),
    index=st.integers(0, 2**40),
    width=st.integers(1, 256),
)
def test_tile_path_round_trip(level: int | None, index: int, width: int) -> None:
    if index * 256 ** ((level or 0) + 1) >= 2**64:
        return
    path = merkle.TilePath(level, index, width)
    assert merkle.TilePath.parse(str(path)) == path


@pytest.mark.parametrize(
    "path",
    [
        "",
        "tile",
        "tile/",
        "tile/0",
        "tile/0/",
        "tile/0/1",
        "tile/0/01",
        "tile/0/0001",
        "tile/00/000",
        "tile/01/000",
        "tile/64/000",
        "tile/-1/000",
        "tile/+1/000",
        "tile/0/x000/001",
        "tile/0/x001",
        "tile/0/001/002",
        "tile/0/x01/002",
        "tile/0/X001/002",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/01",
        "tile/0/000.p/",
        "tile/0/000.p",
        "tile/0/000.p/5/",
        "tile/0/000/",
        "/tile/0/000",
        "tile//0/000",
        "tile/0/../000",
        "tile/0/000\n",
        " tile/0/000",
        "tile/0/٠٠١",
        "tile/0/００１",
        "tile/entry/000",
        "tile/entries/x000/000",
        "TILE/0/000",
        "tile/0/000.P/5",
        "tile/0/000.p/5.p/5",
        "tile/0/000?x",
        "tile/0/000%2f",
        "tile\\0\\000",
        "tile/8/001",
        "tile/0/" + "x999/" * 7 + "999",
        "tile/0/" + "x000/" * 1000 + "001",
    ],
)
def test_hostile_tile_paths_are_refused(path: str) -> None:
    with pytest.raises(TilePathInvalid):
        merkle.TilePath.parse(path)


def test_tile_path_constructor_checks() -> None:
    for args in [(64, 0, 256), (0, -1, 256), (0, 0, 0), (0, 0, 257), (8, 1, 256)]:
        with pytest.raises(TilePathInvalid):
            merkle.TilePath(*args)
    with pytest.raises(TilePathInvalid):
        merkle.TilePath.parse(123)  # type: ignore[arg-type]


@given(st.lists(st.binary(max_size=300), max_size=256))
def test_bundle_round_trip(entries: list[bytes]) -> None:
    data = merkle.encode_bundle(entries)
    assert merkle.decode_bundle(data) == entries
    assert merkle.decode_bundle(data, width=len(entries)) == entries


def test_bundle_format_and_malformed_bundles() -> None:
    assert merkle.encode_bundle([b"ab", b""]) == b"\x00\x02ab\x00\x00"
    assert merkle.decode_bundle(merkle.encode_bundle([b"x" * 65535])) == [b"x" * 65535]
    for bad in [b"\x00", b"\x00\x03ab", b"\x00\x02ab\x00", b"\x00\x00" * 257]:
        with pytest.raises(InvalidValue):
            merkle.decode_bundle(bad)
    with pytest.raises(InvalidValue):
        merkle.decode_bundle(b"\x00\x00", width=2)
    with pytest.raises(InvalidValue):
        merkle.encode_bundle([b"x" * 65536])
    with pytest.raises(InvalidValue):
        merkle.encode_bundle([b""] * 257)
    with pytest.raises(InvalidValue):
        merkle.integrate_entries(merkle.MemoryTileStore(), merkle.MemoryTileStore(), 0, ["s"])  # type: ignore[list-item]
