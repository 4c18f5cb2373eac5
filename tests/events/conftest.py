"""Fixtures of the event-hub tests: a database of their own with every service migrated (no relay
or consumer of another test touches it), a Redis server per test that can be stopped and started
again, relays and consumer runners bound to both."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from devtools.embedded import EmbeddedRedis
from shared.consumers import Consumer, ConsumerConfig, ConsumerRunner
from shared.db import async_url
from shared.migrations import upgrade_all
from shared.outbox import OutboxRelay, RelayConfig, relay_redis
from tests.conftest import Infra
from tests.helpers import scratch_database

FAST = ConsumerConfig(
    block_ms=50, retry_initial=0.05, retry_max=0.2, max_attempts=3, backoff_initial=0.02
)


@pytest.fixture(scope="session")
async def events_db(infra: Infra) -> AsyncIterator[str]:
    async with scratch_database(infra.database_url, "events") as url:
        await asyncio.to_thread(upgrade_all, url)
        yield url


@pytest.fixture(scope="session")
async def engine(events_db: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(async_url(events_db), poolclass=NullPool)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture(autouse=True)
async def nothing_pending(engine: AsyncEngine) -> None:
    """Each test starts with every outbox drained (a test's relay publishes only its rows)."""
    async with engine.begin() as conn:
        for schema in ("auth", "payments", "admin", "profile"):
            await conn.execute(
                text(
                    f"UPDATE {schema}.outbox_events SET published_at = now() "
                    "WHERE published_at IS NULL"
                )
            )


@pytest.fixture
def own_redis() -> Iterator[EmbeddedRedis]:
    """A Redis of the test's own (short path: unix socket paths are limited)."""
    server = EmbeddedRedis(Path(tempfile.mkdtemp(prefix="bfev-")))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(own_redis: EmbeddedRedis) -> str:
    return f"unix://{own_redis.socket}"


@pytest.fixture
async def rd(redis_url: str) -> AsyncIterator[Redis]:
    client = relay_redis(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def make_relay(engine: AsyncEngine, rd: Redis) -> Callable[..., OutboxRelay]:
    def make(schema: str, *, redis: Redis | None = None, **config: Any) -> OutboxRelay:
        return OutboxRelay(
            schema=schema,
            sessionmaker=async_sessionmaker(engine, expire_on_commit=False),
            redis=redis or rd,
            listen_dsn=None,
            config=RelayConfig(**config),
        )

    return make


@pytest.fixture
def make_runner(engine: AsyncEngine, rd: Redis) -> Callable[..., ConsumerRunner]:
    def make(consumer: Consumer, *, config: ConsumerConfig = FAST, **kw: Any) -> ConsumerRunner:
        return ConsumerRunner(
            consumer,
            sessionmaker=async_sessionmaker(engine, expire_on_commit=False),
            redis=rd,
            config=config,
            **kw,
        )

    return make


async def wait_for(predicate: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not await predicate():
            await asyncio.sleep(0.02)
