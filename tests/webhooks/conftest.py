"""Fixtures of the webhook sidecar tests: the in-process sidecar (lifespan running) against the
real embedded PostgreSQL and Redis, and readers of what it committed."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.config import WebhookSettings
from subgraphs.payments.models import OutboxEvent, Payment, PaymentTransaction
from subgraphs.payments.webhooks.app import create_app
from subgraphs.payments.webhooks.models import WebhookEvent
from subgraphs.payments.webhooks.runtime import Runtime
from tests.conftest import Infra
from tests.helpers import app_client
from tests.webhooks.factories import SECRET, Delivery

MakeSettings = Callable[..., WebhookSettings]


@pytest.fixture
def make_settings(infra: Infra) -> MakeSettings:
    def make(**overrides: Any) -> WebhookSettings:
        values: dict[str, Any] = {
            "app_env": "test",
            "database_url": infra.database_url,
            "redis_url": infra.redis_url,
            "razorpay_webhook_secret": SECRET,
            "log_json": False,
            "log_level": "WARNING",
            # The worker runs as in production, woken when events are stored; tests that drive
            # it by hand (`worker.run_once()`) turn it off.
            "webhook_worker_enabled": True,
            "webhook_backoff_base_seconds": 0.0,
            "webhook_max_attempts": 3,
            "webhook_unknown_order_max_attempts": 3,
            # Bounds against a hang, not the product's 2 s: on a loaded CI machine twenty
            # concurrent deliveries opening their first connections took longer and got 503s.
            # (A refused connection is still a fast 503: test_rejections.)
            "webhook_store_timeout_seconds": 30.0,
            "webhook_db_connect_timeout_seconds": 30.0,
        }
        values.update(overrides)
        return WebhookSettings(**values)

    return make


@dataclass
class Sidecar:
    client: httpx.AsyncClient
    runtime: Runtime

    async def deliver(self, delivery: Delivery) -> httpx.Response:
        return await self.client.post(
            "/webhooks/razorpay", content=delivery.raw, headers=delivery.headers
        )


@asynccontextmanager
async def running(settings: WebhookSettings) -> AsyncIterator[Sidecar]:
    app = create_app(settings)
    async with app_client(app) as client:
        yield Sidecar(client=client, runtime=app.state.webhooks)


@pytest.fixture
async def sidecar(make_settings: MakeSettings) -> AsyncIterator[Sidecar]:
    async with running(make_settings()) as started:
        yield started


@pytest.fixture
async def manual(make_settings: MakeSettings) -> AsyncIterator[Sidecar]:
    """A sidecar whose worker applies only when the test says so (`worker.run_once()`)."""
    async with running(make_settings(webhook_worker_enabled=False)) as started:
        yield started


async def wait_for(predicate: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:
    """Until `predicate()` holds (polled); fails after `timeout` seconds, a bound against a hang."""
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


@dataclass
class Db:
    """Reads committed state in a fresh session each time."""

    engine: AsyncEngine

    def session(self) -> AsyncSession:
        return async_sessionmaker(self.engine, expire_on_commit=False)()

    async def done(self, event_id: str | None) -> WebhookEvent:
        """The event once the worker is done with it (applied, or parked)."""
        found: list[WebhookEvent] = []

        async def finished() -> bool:
            row = await self.event(event_id or "")
            found[:] = [row] if row is not None else []
            return row is not None and (row.applied_at is not None or row.parked_at is not None)

        await wait_for(finished)
        return found[0]

    async def attempted(self, event_id: str | None) -> WebhookEvent:
        """The event once the worker has tried it at least once."""
        found: list[WebhookEvent] = []

        async def tried() -> bool:
            row = await self.event(event_id or "")
            found[:] = [row] if row is not None else []
            return row is not None and row.attempts > 0 and row.outcome is not None

        await wait_for(tried)
        return found[0]

    async def settled(self, since: datetime) -> None:
        """Until no event received since `since` is still waiting for the worker."""

        async def none_waiting() -> bool:
            async with self.session() as session:
                waiting = await session.scalar(
                    select(func.count()).where(
                        WebhookEvent.received_at >= since,
                        WebhookEvent.applied_at.is_(None),
                        WebhookEvent.parked_at.is_(None),
                    )
                )
            return not waiting

        await wait_for(none_waiting)

    async def event(self, event_id: str) -> WebhookEvent | None:
        async with self.session() as session:
            return await session.scalar(
                select(WebhookEvent).where(WebhookEvent.event_id == event_id)
            )

    async def events_like(self, prefix: str) -> list[WebhookEvent]:
        async with self.session() as session:
            rows = await session.scalars(
                select(WebhookEvent).where(WebhookEvent.event_id.startswith(prefix))
            )
            return list(rows)

    async def count_events(self, event_id: str) -> int:
        async with self.session() as session:
            statement = select(func.count()).where(WebhookEvent.event_id == event_id)
            return int(await session.scalar(statement) or 0)

    async def payment(self, payment_id: uuid.UUID) -> Payment:
        async with self.session() as session:
            row = await session.get(Payment, payment_id)
            assert row is not None
            return row

    async def transactions(self, payment_id: uuid.UUID) -> list[PaymentTransaction]:
        async with self.session() as session:
            rows = await session.scalars(
                select(PaymentTransaction)
                .where(PaymentTransaction.payment_id == payment_id)
                .order_by(PaymentTransaction.created_at, PaymentTransaction.id)
            )
            return list(rows)

    async def transitions(self, payment_id: uuid.UUID) -> list[tuple[str | None, str | None]]:
        return [
            (t.from_status, t.to_status)
            for t in await self.transactions(payment_id)
            if t.kind == "STATUS_CHANGE"
        ]

    async def outbox_types(self, payment_id: uuid.UUID) -> list[str]:
        async with self.session() as session:
            rows = await session.scalars(
                select(OutboxEvent.type).where(
                    OutboxEvent.data["paymentId"].astext == str(payment_id)
                )
            )
            return sorted(rows)


@pytest.fixture
def db(committed_engine: AsyncEngine) -> Db:
    return Db(committed_engine)


class Records(logging.Handler):
    """The sidecar's log records (its app replaces the root handlers: attach to its logger)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def security_log() -> Iterator[Records]:
    logger = logging.getLogger("webhooks")
    handler = Records()
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
