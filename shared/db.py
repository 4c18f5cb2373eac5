"""Async SQLAlchemy engine and sessions (asyncpg), one engine per process.

Every wait on PostgreSQL is bounded (`DbTimeouts`, from the `DB_*_TIMEOUT_SECONDS` settings):
connecting, waiting for a pooled connection, and each statement (asyncpg's client-side
`command_timeout`, which also fires when the server is paused or unreachable, and the server's
`statement_timeout`, which stops the work the client gave up on). A failure of any of them is a
dependency failure (`shared.outages`): SERVICE_UNAVAILABLE, not a hang.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import Select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util import greenlet_spawn
from sqlalchemy.util.typing import TupleAny, Unpack

from shared import telemetry

if TYPE_CHECKING:
    from shared.config import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def async_url(url: str) -> str:
    """Accept the usual `postgresql://` URL forms and select the asyncpg driver."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError("DATABASE_URL must be a postgresql:// URL")


def asyncpg_dsn(database_url: str) -> str:
    """A `postgresql://` DSN asyncpg itself accepts (for its own connections: the outbox relay's
    LISTEN, the webhook sidecar's group commit), from any URL form the settings allow."""
    for prefix in ("postgresql+asyncpg://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql://" + database_url[len(prefix) :]
    return database_url


@dataclass(frozen=True, kw_only=True)
class DbTimeouts:
    connect_seconds: float = 3.0
    pool_seconds: float = 3.0
    statement_seconds: float = 5.0

    @classmethod
    def from_settings(cls, settings: Settings) -> DbTimeouts:
        return cls(
            connect_seconds=settings.db_connect_timeout_seconds,
            pool_seconds=settings.db_pool_timeout_seconds,
            statement_seconds=settings.db_statement_timeout_seconds,
        )


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    application_name: str = "bff",
    timeouts: DbTimeouts | None = None,
) -> AsyncEngine:
    timeouts = timeouts or DbTimeouts()
    engine = create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=timeouts.pool_seconds,
        pool_pre_ping=False,
        pool_recycle=1800,
        connect_args={
            "timeout": timeouts.connect_seconds,
            "command_timeout": timeouts.statement_seconds,
            "server_settings": {
                "application_name": application_name,
                "statement_timeout": str(int(timeouts.statement_seconds * 1000)),
            },
        },
    )
    telemetry.instrument_engine(engine)  # SQL spans while tracing (OTEL_*), else nothing
    return engine


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def autocommit_connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A pooled connection in autocommit mode, for reads that are one statement each: no BEGIN
    and ROLLBACK around them (two round trips per request on a hot path: docs/performance.md)."""
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        yield connection


Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class _DriverSql:
    """A statement as asyncpg runs it: the SQL text, its parameters' names in `$n` order with
    the values the statement carries itself (literals it was built with), and the SQLAlchemy
    type processors of the parameters and the columns (None where a value passes as it is)."""

    sql: str
    names: tuple[str, ...]
    own_values: Mapping[str, Any]
    binds: tuple[Processor | None, ...]
    results: tuple[Processor | None, ...] | None  # None: no column needs one


@dataclass(frozen=True, eq=False)
class ReadStatement:
    """A Core SELECT that `read_all` can run on the driver's own connection: compiled once
    (per dialect), run with its parameters by name. Statements that SQLAlchemy must rewrite
    per execution are refused when compiled (`expanding` parameters: use `= ANY(:array)`),
    and so are columns whose result type SQLAlchemy only processes knowing the driver's type
    code (`Numeric` as asyncpg returns it)."""

    statement: Select[Unpack[TupleAny]]
    _compiled: dict[type[Dialect], _DriverSql] = field(default_factory=dict, repr=False)

    def driver_sql(self, dialect: Dialect) -> _DriverSql:
        compiled = self._compiled.get(type(dialect))
        if compiled is None:
            compiled = self._compiled[type(dialect)] = _compile(self.statement, dialect)
        return compiled


def _compile(statement: Select[Unpack[TupleAny]], dialect: Dialect) -> _DriverSql:
    compiled = statement.compile(dialect=dialect)
    if compiled.post_compile_params or compiled.literal_execute_params:
        raise TypeError("ReadStatement: expanding parameters are rewritten per execution")
    names = tuple(compiled.positiontup or ())
    binds = tuple(
        compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    )
    own_values = {
        name: compiled.binds[name].effective_value
        for name in names
        if not compiled.binds[name].required
    }
    results: list[Processor | None] = []
    for column in statement.selected_columns:
        try:
            results.append(column.type.dialect_impl(dialect).result_processor(dialect, None))
        except Exception as error:  # needs the driver's type code
            raise TypeError(f"ReadStatement: column {column.key!r} needs SQLAlchemy") from error
    return _DriverSql(
        sql=str(compiled),
        names=names,
        own_values=own_values,
        binds=binds,
        results=tuple(results) if any(results) else None,
    )


async def read_all(
    bind: AsyncEngine | AsyncConnection | AsyncSession,
    read: ReadStatement,
    params: Mapping[str, Any],
) -> Sequence[Sequence[Any]]:
    """Every row of `read`, outside a transaction when `bind` is an engine.

    With an engine (and nothing listening to its statement events: tracing, a test's statement
    counter), the statement runs on a pooled connection's asyncpg connection directly, with no
    BEGIN/ROLLBACK and none of SQLAlchemy's per-execution work (statement cache key, execution
    context, result object, row processing): about a third of the CPU of the same read through
    an autocommit `AsyncConnection` (docs/performance.md). The bounds stay: the pool's
    checkout timeout, asyncpg's command timeout and the server's statement timeout are the
    connection's own. A pooled connection found closed (PostgreSQL restarted) is dropped and
    another one taken; one lost during the read is a `ConnectionError` (SERVICE_UNAVAILABLE,
    `shared.outages`); a connection that failed other than by a PostgreSQL error (lost, timed
    out, cancelled) is dropped, never handed out again. A disconnect (found closed, or lost)
    invalidates the whole pool, as SQLAlchemy does: after a restart the first request meets it,
    the next ones get new connections. Rows are asyncpg records (or tuples
    when a column has a result processor). Otherwise the statement goes through SQLAlchemy on
    `bind`."""
    rows: Sequence[Sequence[Any]]
    if isinstance(bind, AsyncEngine):
        if not bind.sync_engine.dispatch.before_cursor_execute:
            return await _driver_read(bind, read.driver_sql(bind.dialect), params)
        async with autocommit_connection(bind) as connection:
            rows = (await connection.execute(read.statement, params)).all()
        return rows
    rows = (await bind.execute(read.statement, params)).all()
    return rows


def _invalidate_pool(engine: AsyncEngine, pooled: Any, error: Exception | None) -> None:
    """A disconnect: `pooled` (a checked-out `PoolProxiedConnection`) is invalidated, and so is
    every connection the pool made before it, each replaced when next checked out. What
    SQLAlchemy does on a disconnect error (`Connection._handle_dbapi_exception`: the dialect's
    `is_disconnect`, then `pool._invalidate` unless the error is a cancellation or a timeout):
    after a PostgreSQL restart or failover the other idle connections are dead too, and
    finding that out one request at a time answered about a pool's worth of requests
    SERVICE_UNAVAILABLE instead of at most one."""
    engine.sync_engine.pool._invalidate(pooled, error)


async def _driver_read(
    engine: AsyncEngine, compiled: _DriverSql, params: Mapping[str, Any]
) -> Sequence[Sequence[Any]]:
    values = {**compiled.own_values, **params} if compiled.own_values else params
    args = [
        values[name] if process is None else process(values[name])
        for name, process in zip(compiled.names, compiled.binds, strict=True)
    ]
    pooled = await engine.raw_connection()
    driver: Any  # asyncpg.Connection
    try:
        driver = pooled.driver_connection
        if driver.is_closed():  # closed while idle in the pool: nothing was sent yet
            _invalidate_pool(engine, pooled, None)
            await greenlet_spawn(pooled.close)
            pooled = await engine.raw_connection()  # a new connection: the pool was invalidated
            driver = pooled.driver_connection
        try:
            rows: Sequence[Sequence[Any]] = await driver.fetch(compiled.sql, *args)
        except BaseException as error:
            if isinstance(error, asyncpg.PostgresError):
                raise
            lost = driver.is_closed()
            if lost and isinstance(error, Exception) and not isinstance(error, TimeoutError):
                _invalidate_pool(engine, pooled, error)
            else:
                # Outside the greenlet SQLAlchemy terminates the driver connection at once.
                pooled.invalidate(error if isinstance(error, Exception) else None)
            if lost and isinstance(error, asyncpg.InterfaceError):
                raise ConnectionError("the PostgreSQL connection was lost") from error
            raise
    finally:
        # Back to the pool, which may close it (an overflow connection): that awaits.
        await greenlet_spawn(pooled.close)
    if compiled.results is None:
        return rows
    processors = compiled.results
    return [
        tuple(value if p is None else p(value) for p, value in zip(processors, row, strict=True))
        for row in rows
    ]
