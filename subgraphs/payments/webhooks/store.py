"""SQL of the webhook events: the engine with short timeouts, the idempotent insert, claiming a
row for applying (`FOR UPDATE SKIP LOCKED`), the worker's queue, parked events and replays."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
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
    event_id: str
    event_id_source: str
    event_type: str
    payload: dict[str, Any]
    body_sha256: str
    signed_with: str
    received_at: datetime
    next_attempt_at: datetime
    provider_key: str | None = None


async def insert_event(*, session: AsyncSession, event: NewEvent) -> uuid.UUID | None:
    """Insert unless the event id or Razorpay's identity of the event (`provider_key`) is known;
    the new row's id, or None for a duplicate."""
    statement = (
        insert(WebhookEvent)
        .values(
            id=uuid.uuid4(),
            event_id=event.event_id,
            provider_key=event.provider_key,
            event_id_source=event.event_id_source,
            event_type=event.event_type,
            payload=event.payload,
            body_sha256=event.body_sha256,
            signature_valid=True,
            signed_with=event.signed_with,
            received_at=event.received_at,
            attempts=0,
            next_attempt_at=event.next_attempt_at,
        )
        .on_conflict_do_nothing()  # either unique key: event_id or provider_key
        .returning(WebhookEvent.id)
    )
    return await session.scalar(statement)


async def stored_body_sha256(*, session: AsyncSession, event_id: str) -> str | None:
    statement = select(WebhookEvent.body_sha256).where(WebhookEvent.event_id == event_id)
    return await session.scalar(statement)


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
    """Lock one event that still needs applying: the given one, or the most overdue one.

    SKIP LOCKED: an event another transaction is applying is not waited for, so the request
    path and any number of workers never apply one event twice."""
    statement = select(WebhookEvent).where(
        WebhookEvent.applied_at.is_(None), WebhookEvent.parked_at.is_(None)
    )
    if event_pk is not None:
        statement = statement.where(WebhookEvent.id == event_pk)
    else:
        statement = statement.where(WebhookEvent.next_attempt_at <= now).order_by(
            WebhookEvent.next_attempt_at
        )
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
