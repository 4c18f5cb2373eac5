"""Live payment updates over Redis pub/sub: the channel per payment, its message, a subscriber.

The outbox relay (`relay.py`) publishes, after a status event is committed, a small message on
`payments:payment:<paymentId>`: `{"eventId": ..., "paymentId": ..., "type": ...}`. It carries
no payment data on purpose: a subscriber re-reads the payment (with the caller's visibility
rules) so nothing stale or unauthorised travels through Redis. Every payments replica relays to
the same Redis, so any replica can serve any subscriber.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncGenerator
from contextlib import suppress

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from shared.outbox import Backoff

log = logging.getLogger("bff.payments.pubsub")

CHANNEL_PREFIX = "payments:payment:"

RESYNC = ""
"""Yielded by `payment_updates` when the subscription (re)starts: updates published while it was
not subscribed are lost, so the consumer should re-read the payment now."""


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


async def payment_updates(
    redis: Redis, payment_id: uuid.UUID | str, *, backoff: Backoff | None = None
) -> AsyncGenerator[str, None]:
    """Event ids published for one payment, for as long as the consumer iterates.

    Yields `RESYNC` once subscribed and again after every reconnection (Redis restarted or
    unreachable for a while: this retries with back-off, forever). One Redis connection per
    call; closing or cancelling the iterator unsubscribes and releases it.
    """
    channel = payment_channel(payment_id)
    backoff = backoff or Backoff()
    while True:
        pubsub = redis.pubsub()
        try:
            await pubsub.subscribe(channel)
            while True:
                message = await pubsub.get_message(timeout=None)
                if message is None:
                    continue
                kind = message["type"]
                if isinstance(kind, bytes):
                    kind = kind.decode()
                if kind == "subscribe":
                    # The first confirmation, or redis-py's own reconnect resubscribing: either
                    # way, anything published meanwhile was missed.
                    if backoff.failing:
                        log.info("payment updates: subscribed again")
                    backoff.reset()
                    yield RESYNC
                elif kind == "message":
                    event_id = decode_update(message["data"])
                    if event_id is not None:
                        yield event_id
        except (RedisError, OSError) as exc:
            if not backoff.failing:
                log.warning(
                    "payment updates: Redis unavailable, resubscribing",
                    extra={"error_type": type(exc).__name__},
                )
        finally:
            with suppress(RedisError, OSError, TimeoutError):
                async with asyncio.timeout(1.0):
                    await pubsub.unsubscribe()
            await pubsub.aclose()  # type: ignore[no-untyped-call]
        await asyncio.sleep(backoff.next())
