"""Async SQLAlchemy engine and sessions (asyncpg), one engine per process.

Every wait on PostgreSQL is bounded (`DbTimeouts`, from the `DB_*_TIMEOUT_SECONDS` settings):
connecting, waiting for a pooled connection, and each statement (asyncpg's client-side
`command_timeout`, which also fires when the server is paused or unreachable, and the server's
`statement_timeout`, which stops the work the client gave up on). A failure of any of them is a
dependency failure (`shared.outages`): SERVICE_UNAVAILABLE, not a hang.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

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
