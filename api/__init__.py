"""The HTTP layer: parse, call the domain, serialise. Nothing else lives here."""

from __future__ import annotations

from flask import Flask

from api import admin, dids, issuance, kyc, oid4vci, registry, system, verifier
from api.errors import register_error_handlers

__all__ = ["register"]


def register(app: Flask) -> None:
    register_error_handlers(app)
    for blueprint in (system.blueprint, dids.blueprint, admin.blueprint, registry.blueprint,
                      registry.witness_blueprint, registry.mirror_blueprint, kyc.blueprint,
                      issuance.blueprint, oid4vci.blueprint, verifier.blueprint,
                      verifier.wallet_blueprint):
        app.register_blueprint(blueprint)
