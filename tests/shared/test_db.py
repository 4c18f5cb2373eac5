"""`shared.db.read_all`: a read on the engine runs on a pooled connection's driver, with the same
rows as through SQLAlchemy, and the pool stays sound whatever happens to the read."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import nullcontext as _nothing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import (
    Integer,
    String,
    TypeDecorator,
    bindparam,
    column,
    func,
    select,
    table,
    type_coerce,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

from devtools.embedded import EmbeddedPostgres
from shared.db import ReadStatement, asyncpg_dsn, create_engine, read_all
from shared.outages import is_dependency_failure
from tests.conftest import Infra
from tests.helpers import count_statements


class Shouted(TypeDecorator[str]):
    """A column type with a result processor: the driver path must apply it too."""

    impl = String
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else str(value).upper()


NUMBERS = ReadStatement(
    select(
        (bindparam("start", type_=Integer()) + column("n", Integer())).label("n"),
        bindparam("word", type_=Shouted()).label("word"),
    ).select_from(func.generate_series(1, bindparam("count", type_=Integer())).alias("n"))
)

SLOW = ReadStatement(select(func.pg_sleep(bindparam("seconds", type_=Integer())).label("slept")))
DIVIDE = ReadStatement(
    select(type_coerce(1 / bindparam("by", type_=Integer()), Integer()).label("q"))
)
BACKEND = ReadStatement(select(func.pg_backend_pid().label("pid")))


@pytest.fixture
async def engine(infra: Infra) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(infra.database_url, pool_size=1, application_name="test-read-all")
    try:
        yield engine
    finally:
        await engine.dispose()


async def backend(engine: AsyncEngine) -> int:
    rows = await read_all(engine, BACKEND, {})
    return int(rows[0][0])


async def test_a_read_on_the_engine_returns_what_sqlalchemy_returns(engine: AsyncEngine) -> None:
    params = {"start": 10, "count": 3, "word": "tea"}
    direct = await read_all(engine, NUMBERS, params)
    async with engine.connect() as connection:
        through_sqlalchemy = await read_all(connection, NUMBERS, params)
    assert [tuple(row) for row in direct] == [(11, "TEA"), (12, "TEA"), (13, "TEA")]
    assert [tuple(row) for row in through_sqlalchemy] == [tuple(row) for row in direct]
    assert engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_while_something_listens_to_statements_the_read_goes_through_sqlalchemy(
    engine: AsyncEngine,
) -> None:
    with count_statements(engine) as counter:
        rows = await read_all(engine, NUMBERS, {"start": 0, "count": 2, "word": "x"})
    assert [tuple(row) for row in rows] == [(1, "X"), (2, "X")]
    assert counter.count == 1  # a tracer or a test's counter still sees every statement


def test_statements_sqlalchemy_rewrites_per_execution_are_refused(engine: AsyncEngine) -> None:
    things = table("things", column("id", Integer()))
    expanding = select(things.c.id).where(things.c.id.in_(bindparam("ids", expanding=True)))
    with pytest.raises(TypeError, match="expanding"):
        ReadStatement(expanding).driver_sql(engine.dialect)


async def test_a_postgresql_error_keeps_the_connection(engine: AsyncEngine) -> None:
    first = await backend(engine)
    with pytest.raises(asyncpg.DivisionByZeroError):
        await read_all(engine, DIVIDE, {"by": 0})
    assert engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    assert await backend(engine) == first
    assert [tuple(row) for row in await read_all(engine, DIVIDE, {"by": 1})] == [(1,)]


async def terminate(infra: Infra, pid: int, *, when_running: str | None = None) -> None:
    """End the backend `pid` (once it runs a statement containing `when_running`, if given)
    and wait until it is gone."""
    admin = await asyncpg.connect(asyncpg_dsn(infra.database_url))
    try:
        if when_running is not None:
            running = "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND query LIKE $2"
            while not await admin.fetchval(running, pid, f"%{when_running}%"):
                await asyncio.sleep(0.01)
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
        while await admin.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid):
            await asyncio.sleep(0.01)
    finally:
        await admin.close()


async def test_a_connection_closed_in_the_pool_is_replaced(
    engine: AsyncEngine, infra: Infra
) -> None:
    first = await backend(engine)
    await terminate(infra, first)
    pooled = await engine.raw_connection()  # until the client has seen the socket close
    driver: Any = pooled.driver_connection
    try:
        while not driver.is_closed():
            await asyncio.sleep(0.01)
    finally:
        pooled.close()
    assert await backend(engine) != first  # answered on a fresh connection
    assert engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_a_connection_lost_during_the_read_is_a_dependency_failure_and_is_dropped(
    engine: AsyncEngine, infra: Infra
) -> None:
    first = await backend(engine)
    read = asyncio.ensure_future(read_all(engine, SLOW, {"seconds": 30}))
    await terminate(infra, first, when_running="pg_sleep")
    with pytest.raises(asyncpg.ConnectionDoesNotExistError) as raised:
        await read
    assert is_dependency_failure(raised.value)
    assert engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    assert await backend(engine) != first


async def test_a_cancelled_read_does_not_hand_its_connection_out_again(
    engine: AsyncEngine, infra: Infra
) -> None:
    first = await backend(engine)
    read = asyncio.ensure_future(read_all(engine, SLOW, {"seconds": 30}))
    admin = await asyncpg.connect(asyncpg_dsn(infra.database_url))
    try:
        query = "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND query LIKE '%pg_sleep%'"
        while not await admin.fetchval(query, first):
            await asyncio.sleep(0.01)  # until the read is running on the server
    finally:
        await admin.close()
    read.cancel()
    with pytest.raises(asyncio.CancelledError):
        await read
    assert engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    assert await backend(engine) != first


@dataclass
class RestartablePostgres:
    """A PostgreSQL server of this module's own (the session's is shared by every test)."""

    server: EmbeddedPostgres
    database_url: str

    async def restart(self) -> None:
        """Stop it (`pg_ctl stop`, fast mode: every session is ended, as in a restart or a
        failover) and start it again on the same data; off the event loop, which meanwhile
        sees its connections close."""
        await asyncio.to_thread(self.server.stop)
        assert await asyncio.to_thread(self.server.start) == self.database_url


@pytest.fixture(scope="module")
def restartable() -> Iterator[RestartablePostgres]:
    data_dir = Path(tempfile.mkdtemp(prefix="bfr-"))  # short: unix socket paths are limited
    server = EmbeddedPostgres(data_dir / "pg")
    try:
        yield RestartablePostgres(server, server.start())
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


POOL_SIZE = 4


async def _outcome(engine: AsyncEngine) -> str:
    """'ok', or 'unavailable' when the read failed as a dependency failure (anything else
    fails the test)."""
    try:
        await backend(engine)
    except Exception as error:
        if is_dependency_failure(error):
            return "unavailable"
        raise
    return "ok"


async def _sessions(database_url: str) -> int:
    """How many sessions of this module's engines the server has."""
    admin = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        query = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'test-read-all'"
        return int(await admin.fetchval(query))
    finally:
        await admin.close()


@pytest.mark.parametrize("path", ["driver", "sqlalchemy"])
async def test_after_a_postgresql_restart_at_most_one_read_fails(
    restartable: RestartablePostgres, path: str
) -> None:
    """PostgreSQL restarted under a full idle pool: the first disconnect seen invalidates the
    whole pool (as SQLAlchemy does on a disconnect error), so at most one read fails, not one
    per pooled connection. The same bound through SQLAlchemy (something listening to its
    statements sends the read that way)."""
    engine = create_engine(
        restartable.database_url, pool_size=POOL_SIZE, application_name="test-read-all"
    )
    pool: Any = engine.sync_engine.pool
    try:
        held = [await engine.raw_connection() for _ in range(POOL_SIZE)]
        for pooled in held:
            await greenlet_spawn(pooled.close)
        assert pool.checkedin() == POOL_SIZE  # a full idle pool
        assert await _sessions(restartable.database_url) == POOL_SIZE  # each one connected

        await restartable.restart()

        with count_statements(engine) if path == "sqlalchemy" else _nothing():
            outcomes = [await _outcome(engine) for _ in range(3 * POOL_SIZE)]
        assert outcomes.count("unavailable") <= 1, outcomes
        assert "unavailable" not in outcomes[outcomes.index("ok") :], outcomes
        assert pool.checkedout() == 0
    finally:
        await engine.dispose()
