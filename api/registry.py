"""The registry over HTTP: C2SP checkpoint and tlog-tiles reads, proofs, entries, and the
C2SP tlog-witness ``add-checkpoint`` endpoint this node answers as a witness.

Hashes in JSON answers are standard base64 (as in checkpoints and tlog-proof files).
"""

from __future__ import annotations

import base64

from flask import Blueprint, Response, jsonify, request

import errors
from api import schemas
from api.context import node
from api.errors import error_response
from api.inputs import json_body, query_int, raw_path_tail
from identity.did_key import did_from_public_key
from registry import merkle
from registry.entries import MAX_ENTRY_BYTES, canonical, parse_entry
from registry.errors import OldSizeMismatch
from registry.log import Log
from registry.merkle import TilePath
from registry.witness import ADD_CHECKPOINT_STATUS, SIZE_CONTENT_TYPE, format_size_body

__all__ = ["blueprint", "mirror_blueprint", "witness_blueprint"]

blueprint = Blueprint("registry", __name__, url_prefix="/registry")
witness_blueprint = Blueprint("witness", __name__, url_prefix="/witness")
# The same read API over a verified mirror of another node's log.
mirror_blueprint = Blueprint("mirrors", __name__, url_prefix="/mirrors")

NOTE_TYPE = "text/plain; charset=utf-8"
IMMUTABLE = "public, max-age=31536000, immutable"
_MAX_SUBJECT = 2048


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _own() -> Log:
    return node().registry.log


@blueprint.get("/checkpoint")
def checkpoint() -> Response:
    return _checkpoint(_own())


def _checkpoint(log: Log) -> Response:
    response = Response(log.checkpoint_note(), mimetype="text/plain")
    response.headers["Content-Type"] = NOTE_TYPE
    response.headers["Cache-Control"] = "no-cache"
    return response


@blueprint.get("/tile/<path:tile>")
def tile(tile: str) -> Response:
    return _tile(_own(), tile)


def _tile(log: Log, tile: str) -> Response:
    path = TilePath.parse("tile/" + tile)
    size = log.size()
    data = _bundle(log, path, size) if path.level is None else _merkle_tile(log, path, size)
    response = Response(data, mimetype="application/octet-stream")
    response.headers["Cache-Control"] = IMMUTABLE
    return response


def _merkle_tile(log: Log, path: TilePath, size: int) -> bytes:
    level = path.level if path.level is not None else 0
    # Hashes at this tile level that the checkpointed tree holds.
    available = size >> (8 * level)
    first = path.index * merkle.TILE_WIDTH
    if first + path.width > available:
        raise errors.NotFound(f"tile {path} is beyond the tree of size {size}")
    stored = log.store.read_tiles([merkle.TileId(level, path.index)])
    data = stored.get(merkle.TileId(level, path.index))
    if data is None or len(data) < path.width * merkle.HASH_SIZE:
        raise errors.NotFound(f"tile {path} is not stored")
    return bytes(data[: path.width * merkle.HASH_SIZE])


def _bundle(log: Log, path: TilePath, size: int) -> bytes:
    first = path.index * merkle.TILE_WIDTH
    if first + path.width > size:
        raise errors.NotFound(f"entry bundle {path} is beyond the tree of size {size}")
    return merkle.encode_bundle(log.store.registry_entries(first, first + path.width))


@blueprint.get("/entries/<int:index>")
def entry(index: int) -> Response:
    return _entry(_own(), index)


def _entry(log: Log, index: int) -> Response:
    data = log.entry(index)
    return jsonify({"index": index, "leaf_hash": _b64(merkle.leaf_hash(data)),
                    "entry": parse_entry(data).to_json()})


@blueprint.post("/entries")
def append_entry() -> tuple[Response, int]:
    body = json_body(schemas.REGISTRY_ENTRY)
    data = canonical(body)
    if len(data) > MAX_ENTRY_BYTES:
        raise errors.InvalidValue(f"entry is larger than {MAX_ENTRY_BYTES} bytes")
    service = node().registry
    admitted = service.log.append(data)
    size, _root, _note = node().store.latest_checkpoint() or (0, b"", b"")
    return jsonify(
        {"index": admitted.index, "leaf_hash": _b64(admitted.leaf_hash), "size": size}
    ), 201


@blueprint.get("/proof/inclusion")
def inclusion_proof() -> Response:
    return _inclusion_proof(_own())


def _inclusion_proof(log: Log) -> Response:
    current = log.size()
    index = query_int("index")
    size = query_int("size", minimum=1) if "size" in request.args else current
    proof = log.inclusion_proof(index, size)
    leaf = merkle.leaf_hash(log.entry(index))
    return jsonify({"index": index, "size": size, "leaf_hash": _b64(leaf),
                    "root": _b64(log.root_at(size)), "proof": [_b64(h) for h in proof]})


@blueprint.get("/proof/consistency")
def consistency_proof() -> Response:
    return _consistency_proof(_own())


def _consistency_proof(log: Log) -> Response:
    old = query_int("old", minimum=1)
    new = query_int("new", minimum=1)
    proof = log.consistency_proof(old, new)
    return jsonify({"old": old, "new": new, "old_root": _b64(log.root_at(old)),
                    "new_root": _b64(log.root_at(new)), "proof": [_b64(h) for h in proof]})


@blueprint.get("/subjects/<path:subject>")
def subject(subject: str) -> Response:
    return _subject(_own(), raw_path_tail(subject))


def _subject(log: Log, subject: str) -> Response:
    if len(subject) > _MAX_SUBJECT:
        raise errors.InvalidValue(f"subject is longer than {_MAX_SUBJECT} characters")
    size = log.size()
    chain = [(i, d) for i, d in log.store.registry_subject_chain(subject) if i < size]
    if not chain:
        raise errors.NotFound(f"no entries for subject {subject!r}")
    return jsonify({
        "subject": subject,
        "head": chain[-1][0],
        "entries": [{"index": i, "entry": parse_entry(d).to_json()} for i, d in chain],
    })


@blueprint.get("/policy")
def policy() -> Response:
    """Who this log is and whom it trusts: enough for a mirror to set itself up."""
    service = node().registry
    return jsonify({
        "origin": service.origin,
        "log_vkey": service.log_vkey,
        "witness_vkey": service.witness_vkey,
        "governance": {
            "threshold": service.policy.threshold,
            "keys": [did_from_public_key(k) for k in service.policy.keys],
        },
        "witnesses": [{"name": name, "vkey": vkey}
                      for name, vkey, _url, _size in node().store.registry_witnesses()],
    })


@witness_blueprint.post("/add-checkpoint")
def add_checkpoint() -> Response:
    """C2SP tlog-witness add-checkpoint: 200 with cosignature lines, or the spec's statuses."""
    body = request.get_data(cache=False)
    try:
        outcome = node().registry.add_checkpoint(body)
    except OldSizeMismatch as exc:
        response = Response(format_size_body(exc.stored_size), status=409)
        response.headers["Content-Type"] = SIZE_CONTENT_TYPE
        return response
    except errors.Error as exc:
        status = ADD_CHECKPOINT_STATUS.get(exc.code)
        if status is None:
            raise
        return error_response(status, exc.code, exc.message)
    response = Response(outcome.body, mimetype="text/plain")
    response.headers["Content-Type"] = NOTE_TYPE
    return response


# --- mirrors: the same reads over a verified copy of another log --------------------------------


@mirror_blueprint.get("")
def mirrors() -> Response:
    return jsonify({"mirrors": node().mirrors()})


def _mirror(mirror: str) -> Log:
    return node().mirror_log(mirror)


@mirror_blueprint.get("/<mirror>/registry/checkpoint")
def mirror_checkpoint(mirror: str) -> Response:
    return _checkpoint(_mirror(mirror))


@mirror_blueprint.get("/<mirror>/registry/tile/<path:tile>")
def mirror_tile(mirror: str, tile: str) -> Response:
    return _tile(_mirror(mirror), tile)


@mirror_blueprint.get("/<mirror>/registry/entries/<int:index>")
def mirror_entry(mirror: str, index: int) -> Response:
    return _entry(_mirror(mirror), index)


@mirror_blueprint.get("/<mirror>/registry/proof/inclusion")
def mirror_inclusion_proof(mirror: str) -> Response:
    return _inclusion_proof(_mirror(mirror))


@mirror_blueprint.get("/<mirror>/registry/proof/consistency")
def mirror_consistency_proof(mirror: str) -> Response:
    return _consistency_proof(_mirror(mirror))


@mirror_blueprint.get("/<mirror>/registry/subjects/<path:subject>")
def mirror_subject(mirror: str, subject: str) -> Response:
    return _subject(_mirror(mirror), raw_path_tail(subject))
