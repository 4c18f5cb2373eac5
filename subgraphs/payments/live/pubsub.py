"""Live payment updates over Redis pub/sub: the channel per payment and its message.

The outbox relay (`relay.py`) publishes, after a status event is committed, a small message on
`payments:payment:<paymentId>`: `{"eventId": ..., "paymentId": ..., "type": ...}`. It carries
no payment data on purpose: a subscriber re-reads the payment (with the caller's visibility
rules) so nothing stale or unauthorised travels through Redis. Every payments replica relays to
the same Redis, so any replica can serve any subscriber. Each process listens to the channels
its subscribers want on one connection (`hub.LiveUpdates`).
"""

from __future__ import annotations

import uuid

import orjson

CHANNEL_PREFIX = "payments:payment:"

RESYNC = ""
"""Delivered to a feed when its channel is (re)subscribed: updates published while it was not
subscribed are lost, so the consumer should re-read the payment now."""


def payment_channel(payment_id: uuid.UUID | str) -> str:
    return f"{CHANNEL_PREFIX}{payment_id}"


def encode_update(*, event_id: uuid.UUID | str, payment_id: uuid.UUID | str, type: str) -> str:
    return orjson.dumps(
        {"eventId": str(event_id), "paymentId": str(payment_id), "type": type}
    ).decode()


def decode_update(raw: str | bytes) -> str | None:
    """The event id of a channel message, or None when the message is not ours."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    event_id = value.get("eventId") if isinstance(value, dict) else None
    return event_id if isinstance(event_id, str) and event_id else None
