"""Webhook events: what happened, with a snapshot of each entity at that moment."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any

from subgraphs.payments.simulator.ids import token

JSON = dict[str, Any]

# The entities each event carries, in Razorpay's order (`contains`).
CONTAINS: dict[str, tuple[str, ...]] = {
    "payment.authorized": ("payment",),
    "payment.captured": ("payment",),
    "payment.failed": ("payment",),
    "order.paid": ("payment", "order"),
    "refund.created": ("refund", "payment"),
    "refund.processed": ("refund", "payment"),
    "refund.failed": ("refund", "payment"),
}


@dataclass(frozen=True)
class Event:
    name: str
    entities: dict[str, JSON]
    id: str = field(default_factory=token)
    created_at: int = field(default_factory=lambda: int(time.time()))

    @property
    def contains(self) -> list[str]:
        return list(CONTAINS[self.name])

    def body(self, account_id: str) -> JSON:
        return {
            "entity": "event",
            "account_id": account_id,
            "event": self.name,
            "contains": self.contains,
            "payload": {
                name: {"entity": copy.deepcopy(self.entities[name])} for name in self.contains
            },
            "created_at": self.created_at,
        }


def event(name: str, **entities: JSON) -> Event:
    """An event whose entity snapshots are copies (later changes do not leak into it)."""
    missing = set(CONTAINS[name]) - set(entities)
    if missing:
        raise ValueError(f"{name} needs {sorted(missing)}")
    return Event(name=name, entities={key: dict(value) for key, value in entities.items()})
