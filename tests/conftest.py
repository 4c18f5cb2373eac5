"""Test infrastructure: real embedded PostgreSQL and Redis (or TEST_DATABASE_URL / TEST_REDIS_URL),
migrated once per session; each database test runs inside a SAVEPOINT that is rolled back.

Apps, servers and relays are started by fixtures of package scope at most, and a folder whose
tests leave a background task running fails (`pytest_runtest_teardown` below)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())
# Stops wait for cancelled background tasks to finish however loaded the machine (shared.tasks).
os.environ.setdefault("BACKGROUND_STOP_TIMEOUT_SECONDS", "60")

from devtools.embedded import EmbeddedPostgres, EmbeddedRedis
from shared.db import async_url
from shared.migrations import upgrade_all
from shared.redis import create_redis
from tests import helpers
from tests.simulator.support import ServerThread

# Every test under these folders gets the marker: `-m "not e2e and not live"` selects the rest.
FOLDER_MARKERS = {"e2e": "e2e", "live": "live", "browser": "e2e"}
TESTS_DIR = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        folder = item.path.relative_to(TESTS_DIR).parts[0]
        if folder in FOLDER_MARKERS:
            item.add_marker(FOLDER_MARKERS[folder])


@dataclass(frozen=True)
class Infra:
    database_url: str
    redis_url: str
    data_dir: Path


# Background tasks are named (`asyncio.create_task(..., name=...)`: relays, consumers, workers,
# listeners); asyncio names the others Task-<n> (a request's helpers, a waiter being cancelled).
UNNAMED_TASK = re.compile(r"Task-\d+")
_session_loop: list[asyncio.AbstractEventLoop] = []
_reported: dict[int, object] = {}  # leftovers already reported, by id (kept alive here)


@pytest.fixture(scope="session", autouse=True)
async def _remember_the_session_loop() -> None:
    """The event loop every async test and fixture runs on (pyproject: loop scope session)."""
    _session_loop.append(asyncio.get_running_loop())


def _folder(item: pytest.Item) -> str:
    return item.path.relative_to(TESTS_DIR).parts[0]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """When a test folder is done, nothing it started runs on: fail its last test's teardown if
    a named background task (an outbox relay, a consumer, a worker...) of the session loop is
    still pending, or a `ServerThread` (uvicorn in a thread) still runs, once its fixtures are
    torn down (package scope at most: an app whose relay
    and consumers work on the shared database and Redis must not outlive the tests written for
    it). Deterministic: every `stop()` awaits its tasks (`shared.tasks.stop_tasks`), so a task
    still pending here was never stopped, or did not stop within the bound."""
    result = yield
    if not _session_loop or (nextitem is not None and _folder(nextitem) == _folder(item)):
        return result
    tasks = [
        task
        for task in asyncio.all_tasks(_session_loop[0])
        if not task.done() and not UNNAMED_TASK.fullmatch(task.get_name())
    ]
    servers = [server for server in ServerThread.running if server.alive]
    # Each leftover fails the folder that left it, not every folder after it too.
    new = [leftover for leftover in (*tasks, *servers) if id(leftover) not in _reported]
    _reported.update((id(leftover), leftover) for leftover in new)
    left = sorted(
        leftover.get_name()
        if isinstance(leftover, asyncio.Task)
        else f"uvicorn thread at {leftover.url}"
        for leftover in new
    )
    if left:
        pytest.fail(
            f"tests/{_folder(item)} left background tasks running after its last test: "
            f"{', '.join(left)} (start apps in fixtures of package scope at most, stop them "
            "in a `finally`)",
            pytrace=False,
        )
    return result


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    # A short path: unix socket paths are limited to 107 bytes.
    data_dir = Path(tempfile.mkdtemp(prefix="bfft-"))
    pg = EmbeddedPostgres(data_dir / "pg")
    rd = EmbeddedRedis(data_dir / "redis")
    database_url = os.environ.get("TEST_DATABASE_URL") or pg.start()
    redis_url = os.environ.get("TEST_REDIS_URL") or rd.start()
    try:
        upgrade_all(database_url)
        yield Infra(database_url=database_url, redis_url=redis_url, data_dir=data_dir)
    finally:
        rd.stop()
        pg.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
async def db_session(infra: Infra) -> AsyncIterator[AsyncSession]:
    """A session whose commits are savepoints inside one transaction rolled back after the test."""
    engine = create_async_engine(async_url(infra.database_url), poolclass=NullPool)
    async with engine.connect() as connection:
        transaction = await connection.begin()
        session = AsyncSession(
            bind=connection,
            join_transaction_mode="create_savepoint",
            expire_on_commit=False,
        )
        try:
            yield session
        finally:
            await session.close()
            await transaction.rollback()
    await engine.dispose()


@pytest.fixture(scope="session")
async def committed_engine(infra: Infra) -> AsyncIterator[AsyncEngine]:
    """For state an in-process app must see (committed, unlike `db_session`)."""
    engine = create_async_engine(async_url(infra.database_url), poolclass=NullPool)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def committed(committed_engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with async_sessionmaker(committed_engine, expire_on_commit=False)() as session:
        yield session


@pytest.fixture
async def scratch_database(infra: Infra) -> AsyncIterator[str]:
    """A database of its own, for tests that must not touch the shared one (seeding, migrations)."""
    async with helpers.scratch_database(infra.database_url, "seed") as url:
        yield url


@pytest.fixture
async def redis(infra: Infra) -> AsyncIterator[Redis]:
    client = create_redis(infra.redis_url)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def unique_email() -> str:
    return f"user-{uuid.uuid4().hex[:12]}@example.com"


WATCHDOG_SECONDS = 60.0


@pytest.fixture(autouse=True)
async def asyncio_watchdog() -> AsyncIterator[None]:
    """When a test has run for a minute, print where every asyncio task of the test loop waits.

    pytest-timeout ends a hung run later, but only with thread stacks, which for an idle event
    loop say nothing; the tasks' own stacks name the await that never returns."""
    import asyncio
    import sys
    import threading

    loop = asyncio.get_running_loop()

    def awaits(coro: object) -> list[str]:
        """The whole await chain of a coroutine (print_stack shows only its outermost frame)."""
        chain = []
        while coro is not None:
            frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
            if frame is not None:
                code = frame.f_code
                chain.append(f"  {code.co_filename}:{frame.f_lineno} {code.co_name}")
            coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
        return chain

    def dump() -> None:
        print("\n=== asyncio watchdog: tasks still pending ===", file=sys.stderr)
        for task in asyncio.all_tasks(loop):
            state = "cancelling" if task.cancelling() else "pending"
            print(f"{task.get_name()} ({state}) awaits:", file=sys.stderr)
            print("\n".join(awaits(task.get_coro())), file=sys.stderr)

    timer = threading.Timer(WATCHDOG_SECONDS, lambda: loop.call_soon_threadsafe(dump))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
