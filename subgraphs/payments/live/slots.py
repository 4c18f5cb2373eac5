"""Per-user subscription slots shared by every payments replica (`WS_MAX_SUBSCRIPTIONS_PER_USER`).

One Redis sorted set per user, `payments:live:slots:<userId>`: a member per live subscription,
scored with the time (Redis's clock) it expires. Acquiring drops expired members, counts the rest
and adds one only while under the limit, in one script (atomic across replicas). The process
holding a slot refreshes its expiry every third of the TTL (`refresh`) and removes it when the
subscription ends; a process that dies stops refreshing, so its slots expire after at most the
TTL and never leak.

The acquisitions (and releases) a process makes while the previous ones are in flight go to Redis
together, as one pipeline of scripts (`batch.Batcher`): a burst of 500 subscription starts takes
a handful of round trips on one connection, not 500 connections' worth of waiting. Each script is
still atomic on its own, so the limit holds exactly as with one command per start.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Mapping, Sequence

from redis.asyncio import Redis

from shared.tasks import retrieve_outcome
from subgraphs.payments.live.batch import Batcher

KEY_PREFIX = "payments:live:slots:"

_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local ttl = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(ttl * 1000) + 1000)
return 1
"""

_REFRESH = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local ttl = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, 'XX', now + ttl, ARGV[i + 1])
  redis.call('PEXPIRE', key, math.ceil(ttl * 1000) + 1000)
end
return #KEYS
"""


def slots_key(user_id: uuid.UUID | str) -> str:
    return f"{KEY_PREFIX}{user_id}"


class UserSlots:
    """At most `limit` live subscriptions per user, counted in Redis across processes."""

    def __init__(self, redis: Redis, *, limit: int, ttl_seconds: float) -> None:
        self.limit = limit
        self.ttl_seconds = ttl_seconds
        self._redis = redis
        self._acquire = redis.register_script(_ACQUIRE)
        self._refresh = redis.register_script(_REFRESH)
        self._acquisitions: Batcher[tuple[str, str], bool] = Batcher(
            self._acquire_all, default=False
        )
        self._releases: Batcher[tuple[str, str], bool] = Batcher(self._release_all, default=True)
        self._giving_back: set[asyncio.Future[None]] = set()  # releases of abandoned starts

    async def acquire(self, user_id: uuid.UUID | str) -> str | None:
        """A new slot's id, or None when the user already holds `limit` live slots."""
        request = (str(user_id), uuid.uuid4().hex)
        acquisition = asyncio.ensure_future(self._acquisitions.get(request))
        try:
            taken = await asyncio.shield(acquisition)
        except BaseException:
            # Given up (the start's timeout, or the subscription ended) while the acquisition
            # may still reach Redis: once it is answered, give back what it took, rather than
            # let it count against the user until its TTL.
            acquisition.add_done_callback(lambda done: self._give_back(request, done))
            raise
        return request[1] if taken else None

    def _give_back(self, request: tuple[str, str], acquisition: asyncio.Future[bool]) -> None:
        if acquisition.cancelled() or acquisition.exception() is not None:
            return
        if acquisition.result():
            release = asyncio.ensure_future(self.release(*request))
            self._giving_back.add(release)
            release.add_done_callback(self._giving_back.discard)
            release.add_done_callback(retrieve_outcome)

    async def release(self, user_id: uuid.UUID | str, slot: str) -> None:
        await self._releases.get((str(user_id), slot))

    async def _acquire_all(
        self, requests: Sequence[tuple[str, str]]
    ) -> Mapping[tuple[str, str], bool]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for user_id, slot in requests:
                await self._acquire(
                    keys=[slots_key(user_id)],
                    args=[self.limit, self.ttl_seconds, slot],
                    client=pipe,
                )
            taken = await pipe.execute()
        return {request: int(t) == 1 for request, t in zip(requests, taken, strict=True)}

    async def _release_all(
        self, requests: Sequence[tuple[str, str]]
    ) -> Mapping[tuple[str, str], bool]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for user_id, slot in requests:
                pipe.zrem(slots_key(user_id), slot)
            await pipe.execute()
        return {}

    async def refresh(self, held: Iterable[tuple[uuid.UUID | str, str]]) -> None:
        """Push back the expiry of the slots this process holds (its heartbeat)."""
        pairs = list(held)
        if not pairs:
            return
        await self._refresh(
            keys=[slots_key(user) for user, _ in pairs],
            args=[self.ttl_seconds, *(slot for _, slot in pairs)],
        )
