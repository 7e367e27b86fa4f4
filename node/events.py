"""In-process domain events between parts of a node (KYC → issuance).

Handlers run synchronously inside the publisher's transaction, so an event and its effects commit
together or not at all (a re-screening hit and the suspension of the client's credentials).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from enum import StrEnum
from typing import Any

__all__ = ["Event", "EventBus"]


class Event(StrEnum):
    # A client's KYC status became `suspended` (re-screening hit): payload application_id.
    CLIENT_SUSPENDED = "client.suspended"
    # A suspended client was cleared by an officer: payload application_id.
    CLIENT_REINSTATED = "client.reinstated"


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[Event, list[Callable[..., None]]] = defaultdict(list)

    def subscribe(self, event: Event, handler: Callable[..., None]) -> None:
        self._handlers[event].append(handler)

    def publish(self, event: Event, **payload: Any) -> None:
        for handler in self._handlers[event]:
            handler(**payload)
