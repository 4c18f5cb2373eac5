"""Fixtures of the live-update tests: a database of their own for the relay (no other relay of the
test session touches it), outbox rows, Redis servers that can be stopped, and payments processes."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from devtools.embedded import EmbeddedRedis
from shared.config import PaymentsSettings
from shared.db import async_url
from shared.migrations import upgrade
from shared.redis import create_redis
from shared.scopes import Role
from shared.tokens import SigningKeys, generate_private_key_pem
from tests.conftest import Infra
from tests.helpers import ROUTER_SECRET, Caller, gql, make_caller, scratch_database
from tests.live.processes import JwksServer, PaymentsProcess, start_ready
from tests.payments.people import registered


@pytest.fixture(scope="session")
async def relay_db(infra: Infra) -> AsyncIterator[str]:
    """A payments-only database of its own: relays of other tests never claim its rows."""
    async with scratch_database(infra.database_url, "live") as url:
        await asyncio.to_thread(upgrade, "payments", url)
        yield url


@pytest.fixture(scope="session")
async def relay_engine(relay_db: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(async_url(relay_db), poolclass=NullPool)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def clean_outbox(relay_engine: AsyncEngine) -> None:
    """Each relay test starts with nothing pending."""
    async with relay_engine.begin() as conn:
        await conn.execute(text("UPDATE payments.outbox_events SET published_at = now()"))


@pytest.fixture
def stream() -> str:
    """A stream of the test's own in the shared Redis."""
    return f"test:events:payments:{uuid.uuid4().hex[:8]}"


@pytest.fixture
def own_redis() -> Iterator[EmbeddedRedis]:
    """A Redis server the test may stop and restart (same data dir: the stream survives)."""
    data_dir = Path(tempfile.mkdtemp(prefix="bflr-"))  # short: unix socket paths are limited
    server = EmbeddedRedis(data_dir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def own_redis_client(own_redis: EmbeddedRedis) -> AsyncIterator[Redis]:
    client = create_redis(f"unix://{own_redis.socket}")
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture(scope="session")
def keys() -> SigningKeys:
    return SigningKeys(generate_private_key_pem())


@pytest.fixture(scope="package")
def jwks(keys: SigningKeys) -> Iterator[JwksServer]:
    server = JwksServer(keys)
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Replicas:
    """Two payments processes on one database and one Redis, as behind a load balancer."""

    a: PaymentsProcess
    b: PaymentsProcess
    keys: SigningKeys
    settings: PaymentsSettings
    database_url: str

    def caller(self, role: Role, **kw: Any) -> Caller:
        return make_caller(self.keys, self.settings, role, **kw)

    async def register(self, caller: Caller) -> None:
        """Make the caller an account auth knows (committed): payments may then name it as a
        payer or payee."""
        engine = create_async_engine(async_url(self.database_url), poolclass=NullPool)
        try:
            async with AsyncSession(engine) as session, session.begin():
                await registered(session, caller.role, user_id=caller.id)
        finally:
            await engine.dispose()

    async def gql(
        self,
        process: PaymentsProcess,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        as_: Caller,
    ) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{process.port}") as client:
            return await gql(client, query, variables, token=as_.token)


@pytest.fixture(scope="package")
async def replicas(infra: Infra, jwks: JwksServer, keys: SigningKeys) -> AsyncIterator[Replicas]:
    """Stopped when the live tests are done: their relays, consumers and listeners work on the
    shared database and Redis, and must not outlive the tests written for them."""
    env = {
        "APP_ENV": "test",
        "DATABASE_URL": infra.database_url,
        "REDIS_URL": infra.redis_url,
        "ROUTER_HMAC_SECRET": ROUTER_SECRET,
        "AUTH_JWKS_URL": jwks.url,
        "LOG_LEVEL": "WARNING",
    }
    log_dir = infra.data_dir / "live-logs"
    processes: list[PaymentsProcess] = []
    try:
        for name in ("payments-a", "payments-b"):
            processes.append(await start_ready(name, env, log_dir))
        yield Replicas(
            *processes,
            keys=keys,
            settings=PaymentsSettings(app_env="test", router_hmac_secret=ROUTER_SECRET),
            database_url=infra.database_url,
        )
    finally:
        for process in processes:
            process.stop()
