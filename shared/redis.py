"""The Redis client every service shares (redis-py asyncio).

Every command is bounded (`REDIS_SOCKET_TIMEOUT_SECONDS`, `REDIS_CONNECT_TIMEOUT_SECONDS`): a
paused or unreachable Redis raises within seconds (SERVICE_UNAVAILABLE, see `shared.outages`)
instead of holding the request. A broken connection (say, after a Redis restart) is retried once
on a fresh one; a timeout is not retried, so the bound holds. Blocking pub/sub reads
(`get_message(timeout=None)`) are not subject to the socket timeout; the event consumers' blocking
stream reads use a client of their own (`shared.consumers.consumer_redis`).
"""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError


def create_redis(url: str, *, socket_timeout: float = 2.0, connect_timeout: float = 2.0) -> Redis:
    return Redis.from_url(
        url,
        decode_responses=True,
        health_check_interval=30,
        socket_timeout=socket_timeout,
        socket_connect_timeout=connect_timeout,
        retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
    )
