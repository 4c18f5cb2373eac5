"""Live payment updates over Redis pub/sub: the channel per payment and its message.

The outbox relay (`relay.py`) publishes, after a status event is committed, a small message on
`payments:payment:<paymentId>`: `{"eventId": ..., "paymentId": ..., "type": ...}`, plus
`"traceparent"` when the change was made inside a trace (the subscription push links to it). It
carries
no payment data on purpose: a subscriber re-reads the payment (with the caller's visibility
rules) so nothing stale or unauthorised travels through Redis. Every payments replica relays to
the same Redis, so any replica can serve any subscriber. Each process listens to the channels
its subscribers want on one connection (`hub.LiveUpdates`).
"""

from __future__ import annotations

import uuid

import orjson

CHANNEL_PREFIX = "payments:payment:"


class Update(str):
    """What a feed yields: the event id (a `str`), with the W3C `traceparent` of the change it
    announces when there is one (`shared.telemetry.links_to`)."""

    traceparent: str | None

    def __new__(cls, event_id: str, traceparent: str | None = None) -> Update:
        update = super().__new__(cls, event_id)
        update.traceparent = traceparent
        return update


RESYNC = Update("")
"""Delivered to a feed when its channel is (re)subscribed: updates published while it was not
subscribed are lost, so the consumer should re-read the payment now."""


def payment_channel(payment_id: uuid.UUID | str) -> str:
    return f"{CHANNEL_PREFIX}{payment_id}"


def encode_update(
    *,
    event_id: uuid.UUID | str,
    payment_id: uuid.UUID | str,
    type: str,
    traceparent: str | None = None,
) -> str:
    message = {"eventId": str(event_id), "paymentId": str(payment_id), "type": type}
    if traceparent:
        message["traceparent"] = traceparent
    return orjson.dumps(message).decode()


def decode_update(raw: str | bytes) -> Update | None:
    """The update a channel message announces, or None when the message is not ours."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(value, dict):
        return None
    event_id, traceparent = value.get("eventId"), value.get("traceparent")
    if not isinstance(event_id, str) or not event_id:
        return None
    return Update(event_id, traceparent if isinstance(traceparent, str) else None)
