"""JSON Schemas (2020-12) for request and response bodies.

The same objects validate requests (``api.inputs.json_body``) and are published in the OpenAPI
document, so what is documented is what is enforced.
"""

from __future__ import annotations

from typing import Any

__all__ = ["API_KEY_CREATE", "API_KEY_CREATED", "ERROR", "INSTITUTION", "RESOLUTION_RESULT"]

Schema = dict[str, Any]

ERROR: Schema = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "pattern": "^[A-Za-z_]+$"},
        "message": {"type": "string"},
        "field": {"type": "string"},
    },
}

NAME: Schema = {
    "type": "string",
    "minLength": 1,
    "maxLength": 200,
    "pattern": r"^[^\x00-\x1f\x7f]+$",
}

API_KEY_CREATE: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "role"],
    "properties": {
        "name": NAME,
        "role": {"type": "string", "enum": ["admin", "broker", "officer", "verifier"]},
    },
}

API_KEY: Schema = {
    "type": "object",
    "required": ["id", "name", "role", "prefix", "created_at"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "role": {"type": "string"},
        "prefix": {"type": "string"},
        "created_at": {"type": "string"},
        "revoked": {"type": "boolean"},
    },
}

API_KEY_CREATED: Schema = {
    **API_KEY,
    "required": [*API_KEY["required"], "key"],
    "properties": {**API_KEY["properties"], "key": {"type": "string", "pattern": "^kyc_"}},
}

API_KEY_LIST: Schema = {
    "type": "object",
    "required": ["api_keys"],
    "properties": {"api_keys": {"type": "array", "items": API_KEY}},
}

API_KEY_REVOKED: Schema = {
    "type": "object",
    "required": ["id", "revoked"],
    "properties": {"id": {"type": "integer"}, "revoked": {"const": True}},
}

JWK: Schema = {
    "type": "object",
    "required": ["kty", "crv", "x"],
    "properties": {
        "kty": {"type": "string"},
        "crv": {"type": "string"},
        "x": {"type": "string"},
        "y": {"type": "string"},
    },
    "not": {"required": ["d"]},
}

INSTITUTION: Schema = {
    "type": "object",
    "required": ["name", "public_url", "did", "keys"],
    "properties": {
        "name": {"type": "string"},
        "public_url": {"type": "string"},
        "did": {"type": "string", "pattern": "^did:"},
        "keys": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "kid", "jwk"],
                "properties": {"name": {"type": "string"}, "kid": {"type": "string"}, "jwk": JWK},
            },
        },
    },
}

HEALTH: Schema = {
    "type": "object",
    "required": ["status", "schema_version"],
    "properties": {"status": {"const": "ok"}, "schema_version": {"type": "integer"}},
}

RESOLUTION_RESULT: Schema = {
    "type": "object",
    "required": ["didDocument", "didDocumentMetadata", "didResolutionMetadata"],
    "properties": {
        "didDocument": {"type": ["object", "null"]},
        "didDocumentMetadata": {"type": "object"},
        "didResolutionMetadata": {"type": "object"},
        "error": {"type": "string"},
        "message": {"type": "string"},
    },
}

DID_DOCUMENT: Schema = {
    "type": "object",
    "required": ["id"],
    "properties": {"id": {"type": "string", "pattern": "^did:"}},
}

OPENAPI_DOCUMENT: Schema = {
    "type": "object",
    "required": ["openapi", "info", "paths"],
    "properties": {"openapi": {"type": "string", "pattern": "^3\\.1\\."}},
}

# --- registry ------------------------------------------------------------------------------------

B64_HASH: Schema = {"type": "string", "pattern": "^[A-Za-z0-9+/]{43}=$"}

REGISTRY_ENTRY: Schema = {
    "type": "object",
    "description": "A signed registry entry (see docs/registry.md); checked strictly on arrival.",
    "required": ["v", "log", "type", "subject", "prev", "time", "nonce", "payload", "writer",
                 "sigs"],
}

REGISTRY_APPENDED: Schema = {
    "type": "object",
    "required": ["index", "leaf_hash", "size"],
    "properties": {"index": {"type": "integer"}, "leaf_hash": B64_HASH,
                   "size": {"type": "integer"}},
}

REGISTRY_ENTRY_VIEW: Schema = {
    "type": "object",
    "required": ["index", "leaf_hash", "entry"],
    "properties": {"index": {"type": "integer"}, "leaf_hash": B64_HASH,
                   "entry": {"type": "object"}},
}

INCLUSION_PROOF: Schema = {
    "type": "object",
    "required": ["index", "size", "leaf_hash", "root", "proof"],
    "properties": {"index": {"type": "integer"}, "size": {"type": "integer"},
                   "leaf_hash": B64_HASH, "root": B64_HASH,
                   "proof": {"type": "array", "items": B64_HASH}},
}

CONSISTENCY_PROOF: Schema = {
    "type": "object",
    "required": ["old", "new", "old_root", "new_root", "proof"],
    "properties": {"old": {"type": "integer"}, "new": {"type": "integer"},
                   "old_root": B64_HASH, "new_root": B64_HASH,
                   "proof": {"type": "array", "items": B64_HASH}},
}

SUBJECT_CHAIN: Schema = {
    "type": "object",
    "required": ["subject", "head", "entries"],
    "properties": {
        "subject": {"type": "string"},
        "head": {"type": "integer"},
        "entries": {"type": "array", "items": {
            "type": "object", "required": ["index", "entry"],
            "properties": {"index": {"type": "integer"}, "entry": {"type": "object"}}}},
    },
}

REGISTRY_POLICY: Schema = {
    "type": "object",
    "required": ["origin", "log_vkey", "witness_vkey", "governance", "witnesses"],
    "properties": {
        "origin": {"type": "string"},
        "log_vkey": {"type": "string"},
        "witness_vkey": {"type": "string"},
        "governance": {"type": "object", "required": ["threshold", "keys"]},
        "witnesses": {"type": "array"},
    },
}

DID_ANCHOR: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["did", "did_log"],
    "properties": {
        "did": {"type": "string", "pattern": "^did:webvh:", "maxLength": 2048},
        "did_log": {"type": "string", "minLength": 1, "maxLength": 1_000_000,
                    "description": "The DID's whole did.jsonl, signed by its update keys"},
    },
}

DID_ANCHORED: Schema = {
    "type": "object",
    "required": ["did", "anchored", "entries"],
    "properties": {"did": {"type": "string"}, "anchored": {"type": "array",
                   "items": {"type": "integer"}}, "entries": {"type": "integer"}},
}
