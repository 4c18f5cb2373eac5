"""Helpers of the event-hub tests: committed outbox rows, what reached a stream, row counts."""

from __future__ import annotations

import uuid
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared.outbox import add_event


async def write_events(
    engine: AsyncEngine,
    schema: str,
    count: int = 1,
    *,
    type: str | None = None,
    actor_id: uuid.UUID | None = None,
    data: dict[str, Any] | None = None,
) -> list[uuid.UUID]:
    """Commit `count` outbox rows of `schema` in one transaction."""
    async with AsyncSession(engine) as session, session.begin():
        return [
            await add_event(
                session,
                schema=schema,
                type=type or f"{schema}:thing:happened",
                actor_id=actor_id,
                data=data if data is not None else {"n": i, "userId": str(uuid.uuid4())},
            )
            for i in range(count)
        ]


async def unpublished(engine: AsyncEngine, schema: str, ids: list[uuid.UUID]) -> int:
    async with engine.connect() as conn:
        count = await conn.scalar(
            text(
                f"SELECT count(*) FROM {schema}.outbox_events "
                "WHERE id = ANY(:ids) AND published_at IS NULL"
            ),
            {"ids": ids},
        )
    return int(count or 0)


async def stream_ids(redis: Redis, stream: str) -> list[str]:
    return [fields["id"] for _entry, fields in await redis.xrange(stream)]


async def audit_counts(engine: AsyncEngine, ids: list[uuid.UUID]) -> dict[str, int]:
    """How many audit_logs rows each event id has (missing ids: 0)."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT event_id, count(*) FROM admin.audit_logs "
                "WHERE event_id = ANY(:ids) GROUP BY event_id"
            ),
            {"ids": ids},
        )
        found = {str(event_id): int(n) for event_id, n in rows}
    return {str(i): found.get(str(i), 0) for i in ids}
