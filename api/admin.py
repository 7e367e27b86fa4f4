"""Administration: API keys. Role ``admin`` only."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

import errors
from api import schemas
from api.auth import Role, current_key, new_api_key, require_role
from api.context import node
from api.inputs import json_body
from storage import AuditEvent

__all__ = ["blueprint"]

blueprint = Blueprint("admin", __name__, url_prefix="/admin")


@blueprint.post("/api-keys")
@require_role(Role.ADMIN)
def create_api_key() -> tuple[Response, int]:
    body = json_body(schemas.API_KEY_CREATE)
    here = node()
    key, key_hash, prefix = new_api_key()
    now = here.now()
    with here.store.transaction():
        key_id = here.store.add_api_key(body["name"], body["role"], key_hash, prefix, now)
        here.store.record_event(
            AuditEvent(
                now,
                current_key().name,
                "api_key.create",
                f"api_key:{key_id}",
                {"role": body["role"], "name": body["name"]},
            )
        )
    return jsonify(
        {
            "id": key_id,
            "name": body["name"],
            "role": body["role"],
            "prefix": prefix,
            "created_at": now,
            "key": key,
        }
    ), 201


@blueprint.get("/api-keys")
@require_role(Role.ADMIN)
def list_api_keys() -> Response:
    return jsonify({"api_keys": [k.to_public() for k in node().store.list_api_keys()]})


@blueprint.post("/api-keys/<int:key_id>/revoke")
@require_role(Role.ADMIN)
def revoke_api_key(key_id: int) -> Response:
    here = node()
    now = here.now()
    with here.store.transaction():
        if not here.store.revoke_api_key(key_id, now):
            raise errors.NotFound(f"no active API key with id {key_id}")
        here.store.record_event(
            AuditEvent(now, current_key().name, "api_key.revoke", f"api_key:{key_id}", {})
        )
    return jsonify({"id": key_id, "revoked": True})
