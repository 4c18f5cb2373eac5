"""Dependency outages, for real: this module starts its own PostgreSQL and Redis, pauses them
(SIGSTOP, as a hung host or a stalled disk would) under a running subgraph, and expects a quick
SERVICE_UNAVAILABLE with `retryAfter`, `/readyz` failing, and recovery after SIGCONT.

(Before the timeouts: a query waited 30 s for asyncpg's command timeout and came back
INTERNAL_SERVER_ERROR; a request meeting a paused Redis waited for ever.)"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devtools.embedded import EmbeddedPostgres, EmbeddedRedis
from shared.config import ProfileSettings
from shared.migrations import upgrade
from shared.scopes import Role
from shared.tokens import SigningKeys, generate_private_key_pem
from subgraphs.profile.app import create_app
from subgraphs.profile.context import ProfileDeps
from tests.helpers import ROUTER_SECRET, Caller, Subgraph, app_client, error_codes, verifier_factory

MY = "{ myProfile { bio } }"
UPDATE = "mutation U($bio: String) { updateProfile(input: {bio: $bio}) { bio } }"
FAST = 12.0  # seconds: the 1-2 s timeouts below, with slack for a loaded machine (was 32-40 s)


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


@contextmanager
def paused(*pids: int) -> Iterator[None]:
    """Stop the processes (first the parents, so they fork nothing new) and continue them after."""
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in reversed(pids):
            os.kill(pid, signal.SIGCONT)


@dataclass
class Private:
    pg_dir: Path
    redis: EmbeddedRedis
    app: Subgraph

    def postgres_pids(self) -> list[int]:
        postmaster = int((self.pg_dir / "postmaster.pid").read_text().split()[0])
        return [postmaster, *children(postmaster)]

    def redis_pid(self) -> int:
        assert self.redis._process is not None
        return self.redis._process.pid


@pytest.fixture(scope="module")
async def private() -> AsyncIterator[Private]:
    data_dir = Path(tempfile.mkdtemp(prefix="bfo-"))
    pg = EmbeddedPostgres(data_dir / "pg")
    rd = EmbeddedRedis(data_dir / "redis")
    try:
        database_url, redis_url = pg.start(), rd.start()
        # profile reads auth's published user_directory (shared.migrations.SCHEMAS)
        for service in ("auth", "profile"):
            await asyncio.to_thread(upgrade, service, database_url)
        keys = SigningKeys(generate_private_key_pem())
        settings = ProfileSettings(
            app_env="test",
            database_url=database_url,
            redis_url=redis_url,
            router_hmac_secret=ROUTER_SECRET,
            log_json=False,
            log_level="ERROR",
            avatar_dir=data_dir / "avatars",
            db_connect_timeout_seconds=2,
            db_pool_timeout_seconds=2,
            db_statement_timeout_seconds=2,
            redis_socket_timeout_seconds=1,
            redis_connect_timeout_seconds=1,
            ready_timeout_seconds=1,
        )
        verifier = verifier_factory(keys)
        app = create_app(
            settings, deps=ProfileDeps.from_settings(settings, verifier_factory=verifier)
        )
        async with app_client(app) as client:
            engine = app.state.resources.engine
            yield Private(data_dir / "pg", rd, Subgraph(client, engine, settings, keys))
    finally:
        rd.stop()
        pg.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


async def timed(app: Subgraph, query: str, caller: Caller, **variables: Any) -> tuple[Any, float]:
    started = time.monotonic()
    result = await app.gql(query, variables or None, as_=caller)
    return result, time.monotonic() - started


def assert_unavailable(result: dict[str, Any]) -> None:
    assert error_codes(result) == ["SERVICE_UNAVAILABLE"], result
    assert result["errors"][0]["extensions"]["retryAfter"] >= 1
    assert "Internal" not in result["errors"][0]["message"]


async def ready_status(app: Subgraph) -> tuple[int, float]:
    started = time.monotonic()
    response = await app.client.get("/readyz")
    return response.status_code, time.monotonic() - started


async def recovers(app: Subgraph, caller: Caller) -> None:
    deadline = time.monotonic() + 20
    while True:
        result = await app.gql(MY, as_=caller)
        if "errors" not in result and (await ready_status(app))[0] == 200:
            return
        assert time.monotonic() < deadline, result
        await asyncio.sleep(0.2)


async def test_a_paused_postgresql_answers_service_unavailable_quickly(private: Private) -> None:
    app = private.app
    me = app.caller(Role.CUSTOMER)
    await app.ok(MY, as_=me)  # the pool holds a live connection now

    with paused(*private.postgres_pids()):
        read, read_took = await timed(app, MY, me)
        write, write_took = await timed(app, UPDATE, me, bio="hello")
        status, ready_took = await ready_status(app)

    assert_unavailable(read)
    assert_unavailable(write)
    assert read_took < FAST, read_took
    assert write_took < FAST, write_took
    assert status == 503
    assert ready_took < FAST

    await recovers(app, me)
    assert (await app.ok(UPDATE, {"bio": "back"}, as_=me))["updateProfile"]["bio"] == "back"


async def test_a_paused_redis_answers_service_unavailable_quickly(private: Private) -> None:
    app = private.app
    me = app.caller(Role.CUSTOMER)
    await app.ok(MY, as_=me)

    with paused(private.redis_pid()):
        result, took = await timed(app, MY, me)  # the token's revocation lookup meets Redis
        status, ready_took = await ready_status(app)

    assert_unavailable(result)
    assert took < FAST, took
    assert status == 503
    assert ready_took < FAST

    await recovers(app, me)
