"""The payments service's outbox relay: `shared.outbox` plus the live-update fan-out.

Every status change writes a `payments.outbox_events` row in the same transaction
(`lifecycle.status.change_status`); the generic relay (`shared.outbox.OutboxRelay`) publishes
committed rows to `events:payments` (SKIP LOCKED claims in `seq` order, `published_at` set in
the claiming transaction, NOTIFY `payments_outbox` wake-up from migration 0003, back-off while
Redis is down).
This module adds one thing: for payment status events (`payments:payment:*`) it also
`PUBLISH`es `payments:payment:<paymentId>` (see `pubsub.py`) in the same MULTI/EXEC, which is
what `paymentUpdated` subscribers listen to. It runs in every payments process and in the
webhook sidecar.
"""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import outbox
from shared.outbox import OutboxEvent, RelayConfig, RunningRelay, relay_redis
from subgraphs.payments.live.pubsub import encode_update, payment_channel

__all__ = [
    "NOTIFY_CHANNEL",
    "STREAM",
    "OutboxEvent",
    "OutboxRelay",
    "RelayConfig",
    "RunningRelay",
    "payment_id_of",
    "relay_redis",
    "relay_task",
]

SCHEMA = "payments"
STREAM = outbox.stream_for(SCHEMA)
NOTIFY_CHANNEL = outbox.notify_channel_for(SCHEMA)
PAYMENT_EVENT_PREFIX = "payments:payment:"


def payment_id_of(event: OutboxEvent) -> str | None:
    """The payment a status event is about (these fan out to the payment's channel)."""
    if not event.type.startswith(PAYMENT_EVENT_PREFIX):
        return None
    value = event.data.get("paymentId")
    return value if isinstance(value, str) and value else None


def publish_updates(pipe: Pipeline, events: Sequence[OutboxEvent]) -> None:
    """`on_published`: one small pub/sub message per payment status event."""
    for event in events:
        if (payment_id := payment_id_of(event)) is not None:
            pipe.publish(
                payment_channel(payment_id),
                encode_update(
                    event_id=event.id,
                    payment_id=payment_id,
                    type=event.type,
                    traceparent=event.traceparent,
                ),
            )


class OutboxRelay(outbox.OutboxRelay):
    """The relay of `payments.outbox_events`, fanning status events out to subscribers."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        redis: Redis,
        listen_dsn: str | None,
        config: RelayConfig | None = None,
    ) -> None:
        super().__init__(
            schema=SCHEMA,
            sessionmaker=sessionmaker,
            redis=redis,
            listen_dsn=listen_dsn,
            config=config,
            on_published=publish_updates,
        )


def relay_task() -> outbox.RelayTask:
    """The relay as a background part of an app: one per process, with its own connections."""
    return outbox.RelayTask(SCHEMA, on_published=publish_updates)
