"""How a view reaches the node it serves: ``node()`` returns the one built by ``create_app``."""

from __future__ import annotations

from flask import current_app

from node import Node

__all__ = ["node"]


def node() -> Node:
    found: Node = current_app.extensions["kyc"]
    return found
