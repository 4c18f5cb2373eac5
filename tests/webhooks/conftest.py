"""Fixtures of the webhook sidecar tests: the in-process sidecar (lifespan running) against the
real embedded PostgreSQL and Redis, and readers of what it committed."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
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
            "webhook_worker_enabled": False,
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


@dataclass
class Db:
    """Reads committed state in a fresh session each time."""

    engine: AsyncEngine

    def session(self) -> AsyncSession:
        return async_sessionmaker(self.engine, expire_on_commit=False)()

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
