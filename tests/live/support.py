"""Helpers of the live-update tests: outbox rows, what the relay left, what reached Redis."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from subgraphs.payments.models import OutboxEvent


async def write_events(
    engine: AsyncEngine,
    count: int = 1,
    *,
    type: str = "payments:payment:updated",
    payment_id: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    """Commit `count` outbox rows in one transaction (as a status change would)."""
    ids = [uuid.uuid4() for _ in range(count)]
    async with AsyncSession(engine) as session, session.begin():
        for i, event_id in enumerate(ids):
            pid = payment_id or uuid.uuid4()
            session.add(
                OutboxEvent(
                    id=event_id,
                    type=type,
                    occurred_at=datetime.now(UTC),
                    actor_id=pid,
                    data={"paymentId": str(pid), "status": "PROCESSING", "n": i},
                )
            )
    return ids


async def unpublished(engine: AsyncEngine, ids: list[uuid.UUID]) -> int:
    async with engine.connect() as conn:
        count = await conn.scalar(
            text(
                "SELECT count(*) FROM payments.outbox_events "
                "WHERE id = ANY(:ids) AND published_at IS NULL"
            ),
            {"ids": ids},
        )
    return int(count or 0)


async def stream_ids(redis: Redis, stream: str) -> list[str]:
    return [fields["id"] for _entry, fields in await redis.xrange(stream)]
