"""SQL of the webhook events: the engine with short timeouts, the batch insert of the ingest path
(raw asyncpg), claiming a row for applying (`FOR UPDATE SKIP LOCKED`), the worker's queue, parked
events and replays."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import String, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from shared import telemetry
from shared.config import WebhookSettings
from shared.db import async_url
from subgraphs.payments.webhooks.models import WebhookEvent


def create_webhook_engine(settings: WebhookSettings) -> AsyncEngine:
    """An engine that fails fast: Razorpay gives up on an answer after 5 seconds."""
    if not settings.database_url:
        raise RuntimeError("DATABASE_URL must be set (make dev sets it)")
    engine = create_async_engine(
        async_url(settings.database_url),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_timeout=settings.webhook_store_timeout_seconds,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={
            "timeout": settings.webhook_db_connect_timeout_seconds,
            "command_timeout": settings.webhook_statement_timeout_ms / 1000 + 1,
            "server_settings": {
                "application_name": settings.service_name,
                "statement_timeout": str(settings.webhook_statement_timeout_ms),
                "lock_timeout": str(settings.webhook_lock_timeout_ms),
                "idle_in_transaction_session_timeout": "30000",
            },
        },
    )
    telemetry.instrument_engine(engine)  # SQL spans while tracing (OTEL_*)
    return engine


@dataclass(frozen=True)
class NewEvent:
    """A verified delivery to store. `payload_json` is the body as JSON text (the raw body, or
    the parsed one re-encoded when it had to be cleaned); `traceparent` is the request's trace
    context while tracing (the worker applies the event in that trace)."""

    event_id: str
    event_id_source: str
    event_type: str
    payload_json: str
    body_sha256: str
    signed_with: str
    received_at: datetime
    next_attempt_at: datetime
    provider_key: str | None = None
    traceparent: str | None = None


def variant_of(event: NewEvent) -> NewEvent:
    """The event under the id a reused event id with another body is stored as."""
    return replace(event, event_id=f"{event.event_id[:60]}~{event.body_sha256[:32]}")


# Raw SQL on the ingest path (asyncpg, `ingest.GroupCommit`): one statement for the whole batch,
# in arrival order; either unique key (event_id, provider_key) makes a row a conflict.
_INSERT_BATCH = """
INSERT INTO payments.webhook_events (
    id, event_id, provider_key, event_id_source, event_type, payload, body_sha256,
    signature_valid, signed_with, received_at, attempts, next_attempt_at
)
SELECT id, event_id, provider_key, event_id_source, event_type, payload::jsonb, body_sha256,
       true, signed_with, received_at, 0, next_attempt_at
  FROM unnest(
        $1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
        $8::text[], $9::timestamptz[], $10::timestamptz[]
       ) WITH ORDINALITY AS t(
        id, event_id, provider_key, event_id_source, event_type, payload, body_sha256,
        signed_with, received_at, next_attempt_at, position
       )
 ORDER BY position
ON CONFLICT DO NOTHING
RETURNING id
"""
_STORED_BODIES = """
SELECT event_id, body_sha256 FROM payments.webhook_events WHERE event_id = ANY($1::text[])
"""


async def insert_batch(
    conn: asyncpg.Connection, ids: Sequence[uuid.UUID], events: Sequence[NewEvent]
) -> set[uuid.UUID]:
    """Insert `events` under `ids` unless known (event id or `provider_key`); the ids inserted."""
    rows = await conn.fetch(
        _INSERT_BATCH,
        list(ids),
        [e.event_id for e in events],
        [e.provider_key for e in events],
        [e.event_id_source for e in events],
        [e.event_type for e in events],
        [e.payload_json for e in events],
        [e.body_sha256 for e in events],
        [e.signed_with for e in events],
        [e.received_at for e in events],
        [e.next_attempt_at for e in events],
    )
    return {row["id"] for row in rows}


async def stored_bodies(conn: asyncpg.Connection, event_ids: Sequence[str]) -> dict[str, str]:
    """event id -> body SHA-256 of the stored events among `event_ids`."""
    rows = await conn.fetch(_STORED_BODIES, list(set(event_ids)))
    return {row["event_id"]: str(row["body_sha256"]) for row in rows}


async def due_events(
    *, session: AsyncSession, now: datetime, limit: int
) -> Sequence[tuple[uuid.UUID, str]]:
    """(id, ordering key) of up to `limit` events due by `now`, most overdue first, then in
    order of arrival. The key names the payment an event is about, as far as its payload says:
    the Razorpay order of the payment entity (payment.*, order.paid, refunds that carry their
    payment), else the Razorpay payment of a refund, else the event itself."""
    body = WebhookEvent.payload["payload"]
    key = func.coalesce(
        body["payment"]["entity"]["order_id"].astext,
        body["refund"]["entity"]["payment_id"].astext,
        func.cast(WebhookEvent.id, String),
    )
    statement = (
        select(WebhookEvent.id, key)
        .where(
            WebhookEvent.applied_at.is_(None),
            WebhookEvent.parked_at.is_(None),
            WebhookEvent.next_attempt_at <= now,
        )
        .order_by(WebhookEvent.next_attempt_at, WebhookEvent.received_at)
        .limit(limit)
    )
    return [(row[0], str(row[1])) for row in (await session.execute(statement)).all()]


async def prune(*, session: AsyncSession, applied_before: datetime, limit: int) -> int:
    """Delete up to `limit` events applied before `applied_before` (oldest first); events not
    applied yet (waiting or parked) are never deleted. How many were deleted."""
    oldest = (
        select(WebhookEvent.id)
        .where(WebhookEvent.applied_at < applied_before)
        .order_by(WebhookEvent.applied_at)
        .limit(limit)
    )
    result = await session.execute(delete(WebhookEvent).where(WebhookEvent.id.in_(oldest)))
    return int(getattr(result, "rowcount", 0) or 0)


async def claim(
    *, session: AsyncSession, now: datetime, event_pk: uuid.UUID | None = None
) -> WebhookEvent | None:
    """Lock one event that is due by `now` and still needs applying: the given one, or the most
    overdue one.

    SKIP LOCKED: an event another transaction is applying is not waited for, so any number of
    workers never apply one event twice. Due by `now` for the given one too: a worker names an
    event it read as due, and meanwhile another replica may have attempted it and scheduled
    its next attempt later; attempting it again at once would spend an attempt (and park it
    one attempt early)."""
    statement = select(WebhookEvent).where(
        WebhookEvent.applied_at.is_(None),
        WebhookEvent.parked_at.is_(None),
        WebhookEvent.next_attempt_at <= now,
    )
    if event_pk is not None:
        statement = statement.where(WebhookEvent.id == event_pk)
    else:
        statement = statement.order_by(WebhookEvent.next_attempt_at)
    statement = statement.limit(1).with_for_update(skip_locked=True)
    return await session.scalar(statement)


async def backlog(*, session: AsyncSession) -> tuple[int, int]:
    """(events waiting to be applied, parked events), each counted on its partial index."""
    waiting = await session.scalar(
        select(func.count())
        .select_from(WebhookEvent)
        .where(WebhookEvent.applied_at.is_(None), WebhookEvent.parked_at.is_(None))
    )
    parked = await session.scalar(
        select(func.count()).select_from(WebhookEvent).where(WebhookEvent.parked_at.is_not(None))
    )
    return int(waiting or 0), int(parked or 0)


async def parked_events(*, session: AsyncSession, limit: int = 100) -> Sequence[WebhookEvent]:
    statement = (
        select(WebhookEvent)
        .where(WebhookEvent.parked_at.is_not(None))
        .order_by(WebhookEvent.parked_at.desc())
        .limit(limit)
    )
    return (await session.scalars(statement)).all()


async def replay(*, session: AsyncSession, event_id: str, now: datetime) -> bool:
    """Put a parked event back in the worker's queue with fresh attempts (not yet committed)."""
    statement = (
        update(WebhookEvent)
        .where(WebhookEvent.event_id == event_id, WebhookEvent.parked_at.is_not(None))
        .values(parked_at=None, attempts=0, next_attempt_at=now)
        .returning(WebhookEvent.id)
    )
    return (await session.scalar(statement)) is not None
