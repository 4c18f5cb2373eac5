"""Which failures mean "a dependency is down or too slow" (PostgreSQL, Redis).

`shared.errors` answers them as SERVICE_UNAVAILABLE with `retryAfter` instead of a masked
INTERNAL_SERVER_ERROR; `shared.context` does the same for the revocation lookup that runs before
execution. The timeouts that make these failures arrive within seconds are set where the clients
are built (`shared.db`, `shared.redis`) from the `DB_*` / `REDIS_*` settings.
"""

from __future__ import annotations

from typing import Final

import asyncpg  # type: ignore[import-untyped]
import redis.exceptions
import sqlalchemy.exc

DEPENDENCY_ERRORS: Final[tuple[type[BaseException], ...]] = (
    TimeoutError,  # asyncio.TimeoutError too: asyncpg's command timeout, connect timeout
    ConnectionError,  # refused, reset, broken pipe
    sqlalchemy.exc.TimeoutError,  # no pooled connection within DB_POOL_TIMEOUT_SECONDS
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,  # starting up, shutting down
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.QueryCanceledError,  # the server's statement_timeout
)

_MAX_CHAIN: Final = 6


def is_dependency_failure(exc: BaseException) -> bool:
    """True when `exc` (or what it wraps: SQLAlchemy's `orig`, a `raise ... from`) says
    PostgreSQL or Redis is unreachable or did not answer in time."""
    current: BaseException | None = exc
    for _ in range(_MAX_CHAIN):
        if current is None:
            return False
        if isinstance(current, DEPENDENCY_ERRORS):
            return True
        if isinstance(current, sqlalchemy.exc.DBAPIError) and current.connection_invalidated:
            return True
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__
    return False
