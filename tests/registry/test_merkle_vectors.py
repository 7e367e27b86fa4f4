"""RFC 6962 / RFC 9162 Merkle vectors (transparency-dev/merkle @417fb0c3); see tests/vectors."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from errors import Error, VerificationFailed
from registry import merkle

VECTORS = Path(__file__).parent.parent / "vectors"
RFC6962 = json.loads((VECTORS / "rfc6962.json").read_text())
REFERENCE_TREE = json.loads((VECTORS / "tlog" / "rfc6962-reference-tree.json").read_text())
LEAVES = [bytes.fromhex(h) for h in RFC6962["reference_tree"]["leaf_inputs_hex"]]
LEAF_HASHES = [merkle.leaf_hash(d) for d in LEAVES]


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def _proof(value: list[str] | None) -> list[bytes]:
    return [_b64(p) for p in value or []]


def _tlog_files(kind: str) -> list[tuple[str, dict[str, Any]]]:
    base = VECTORS / "tlog" / "transparency-dev-merkle" / kind
    return [
        (f"tlog/{p.relative_to(base.parent)}", json.loads(p.read_text()))
        for p in sorted(base.rglob("*.json"))
    ]


def _cases(kind: str) -> list[tuple[str, dict[str, Any]]]:
    embedded = [
        (f"rfc6962.json/{k}", v) for k, v in RFC6962["testdata"].items() if k.startswith(kind)
    ]
    return embedded + _tlog_files(kind)


INCLUSION = _cases("inclusion")
CONSISTENCY = _cases("consistency")


def test_vector_counts() -> None:
    # 98 + 98 cases in each copy; the copies must agree with each other.
    assert len(INCLUSION) == len(CONSISTENCY) == 196
    tlog = dict(_tlog_files("inclusion") + _tlog_files("consistency"))
    for name, case in RFC6962["testdata"].items():
        assert tlog[f"tlog/{name}"] == case


def test_hasher_vectors() -> None:
    h = RFC6962["hasher"]
    assert merkle.EMPTY_ROOT.hex() == h["empty_tree_root_hex"]
    assert merkle.leaf_hash(b"").hex() == h["leaf_hash_of_empty_input_hex"]
    assert (
        merkle.leaf_hash(h["leaf_hash"]["input_ascii"].encode()).hex() == h["leaf_hash"]["hash_hex"]
    )
    node = h["node_hash"]
    assert (
        merkle.node_hash(node["left_ascii"].encode(), node["right_ascii"].encode()).hex()
        == node["hash_hex"]
    )


def test_reference_tree_nodes_and_roots() -> None:
    ref = RFC6962["reference_tree"]
    assert ref["leaf_inputs_hex"] == REFERENCE_TREE["leaf_inputs_hex"]
    assert ref["node_hashes_hex_by_level"] == REFERENCE_TREE["node_hashes_by_level_hex"]
    for level, row in enumerate(ref["node_hashes_hex_by_level"]):
        width = 1 << level
        got = [merkle.root(LEAF_HASHES[i * width : (i + 1) * width]).hex() for i in range(len(row))]
        assert got == row
    store = merkle.MemoryTileStore()
    store.apply(merkle.integrate(store, 0, LEAF_HASHES))
    for size, expected in ref["root_hashes_hex_by_tree_size"].items():
        assert merkle.root(LEAF_HASHES[: int(size)]).hex() == expected
        assert merkle.tile_root(store, int(size)).hex() == expected
        assert REFERENCE_TREE["root_hash_by_tree_size_hex"][int(size)] == expected


@pytest.mark.parametrize(
    "case", RFC6962["proofgen_vectors"]["inclusion"], ids=lambda c: f"{c['leafIdx1']}-{c['size']}"
)
def test_proofgen_inclusion(case: dict[str, Any]) -> None:
    index, size = case["leafIdx1"] - 1, case["size"]  # proofgen numbers leaves from 1
    expected = [bytes.fromhex(p) for p in case["proof_hex"]]
    assert merkle.inclusion_proof(LEAF_HASHES[:size], index) == expected
    store = merkle.MemoryTileStore()
    store.apply(merkle.integrate(store, 0, LEAF_HASHES))
    assert merkle.tile_inclusion_proof(store, index, size) == expected
    merkle.verify_inclusion(
        LEAF_HASHES[index], index, size, expected, merkle.root(LEAF_HASHES[:size])
    )


@pytest.mark.parametrize(
    "case", RFC6962["proofgen_vectors"]["consistency"], ids=lambda c: f"{c['size1']}-{c['size2']}"
)
def test_proofgen_consistency(case: dict[str, Any]) -> None:
    size1, size2 = case["size1"], case["size2"]
    expected = [bytes.fromhex(p) for p in case["proof_hex"]]
    assert merkle.consistency_proof(LEAF_HASHES[:size2], size1) == expected
    store = merkle.MemoryTileStore()
    store.apply(merkle.integrate(store, 0, LEAF_HASHES))
    assert merkle.tile_consistency_proof(store, size1, size2) == expected
    merkle.verify_consistency(
        size1, size2, expected, merkle.root(LEAF_HASHES[:size1]), merkle.root(LEAF_HASHES[:size2])
    )


@pytest.mark.parametrize(("name", "case"), INCLUSION, ids=[n for n, _ in INCLUSION])
def test_inclusion_vectors(name: str, case: dict[str, Any]) -> None:
    args = (_b64(case["leafHash"]), case["leafIdx"], case["treeSize"], _proof(case["proof"]))
    root = _b64(case["root"])
    if case["wantErr"]:
        with pytest.raises(Error):
            merkle.verify_inclusion(*args, root)
        return
    merkle.verify_inclusion(*args, root)
    index, size = case["leafIdx"], case["treeSize"]
    if size <= len(LEAF_HASHES) and args[0] == LEAF_HASHES[index]:
        # Positive cases over the reference tree: our generators produce the same proof.
        assert merkle.inclusion_proof(LEAF_HASHES[:size], index) == args[3]


@pytest.mark.parametrize(("name", "case"), CONSISTENCY, ids=[n for n, _ in CONSISTENCY])
def test_consistency_vectors(name: str, case: dict[str, Any]) -> None:
    args = (case["size1"], case["size2"], _proof(case["proof"]), _b64(case["root1"]))
    root2 = _b64(case["root2"])
    if case["wantErr"]:
        with pytest.raises(VerificationFailed):
            merkle.verify_consistency(*args, root2)
        return
    merkle.verify_consistency(*args, root2)
    if case["size2"] <= len(LEAF_HASHES) and args[3] == merkle.root(LEAF_HASHES[: case["size1"]]):
        assert merkle.consistency_proof(LEAF_HASHES[: case["size2"]], case["size1"]) == args[2]


def test_failures_are_specific_errors() -> None:
    from registry.errors import ConsistencyProofInvalid, InclusionProofInvalid

    r = merkle.root(LEAF_HASHES)
    with pytest.raises(InclusionProofInvalid):
        merkle.verify_inclusion(LEAF_HASHES[0], 8, 8, [], r)
    with pytest.raises(ConsistencyProofInvalid):
        merkle.verify_consistency(0, 0, [], merkle.EMPTY_ROOT, merkle.EMPTY_ROOT)
    with pytest.raises(ConsistencyProofInvalid):
        merkle.verify_consistency(8, 4, [], r, r)
