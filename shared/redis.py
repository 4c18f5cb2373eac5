"""The Redis client every service shares (redis-py asyncio).

Every command is bounded (`REDIS_SOCKET_TIMEOUT_SECONDS`, `REDIS_CONNECT_TIMEOUT_SECONDS`): a
paused or unreachable Redis raises within seconds (SERVICE_UNAVAILABLE, see `shared.outages`)
instead of holding the request. A broken connection (say, after a Redis restart) is retried once
on a fresh one; a timeout is not retried, so the bound holds. Blocking pub/sub reads
(`get_message(timeout=None)`) are not subject to the socket timeout; the event consumers' blocking
stream reads use a client of their own (`shared.consumers.consumer_redis`).

At most `MAX_CONNECTIONS` connections; a command beyond them waits for a free one (as long as
the socket timeout) instead of failing at once: a burst of 500 WebSocket `connection_init`s on
a payments process (the router opens one upstream connection per subscription), each checking
revocation, made a few of them SERVICE_UNAVAILABLE with redis-py's non-blocking pool.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

MAX_CONNECTIONS = 100  # redis-py's own default bound, kept


def create_redis(url: str, *, socket_timeout: float = 2.0, connect_timeout: float = 2.0) -> Redis:
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=MAX_CONNECTIONS,
        timeout=socket_timeout,  # waiting for a free connection
        decode_responses=True,
        health_check_interval=30,
        socket_timeout=socket_timeout,
        socket_connect_timeout=connect_timeout,
        retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
    )
    client = Redis(connection_pool=pool)
    client.auto_close_connection_pool = True  # aclose() closes the pool too, as from_url's
    return client


T = TypeVar("T")

_RELEASE_IF_OURS = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


async def run_locked(
    redis: Redis, key: str, ttl_ms: int, job: Callable[[], Awaitable[T]]
) -> T | None:
    """Run `job` if this process takes the lock `key` (SET NX PX: one replica at a time, freed
    after `ttl_ms` if its holder dies), releasing it afterwards only if still ours; None when
    another process holds it."""
    token = secrets.token_hex(16)
    if not await redis.set(key, token, nx=True, px=ttl_ms):
        return None
    try:
        return await job()
    finally:
        await redis.eval(_RELEASE_IF_OURS, 1, key, token)
