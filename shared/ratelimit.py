"""A sliding-window rate limiter on Redis, shared by every service.

Each limited key is a sorted set of attempt ids scored by time (milliseconds from Redis `TIME`,
so replicas with skewed clocks agree). One Lua script checks every limit of an attempt and, only
when all of them have room, records the attempt in all of them: the check and the write are
atomic, so concurrent attempts cannot overshoot a limit, and an attempt refused by one limit does
not consume the others. A refusal raises `RateLimited` with the seconds until the oldest attempt
in the fullest window leaves it (`extensions.retryAfter`).

An attempt that should not count after all (say, a successful login against a "failed logins
per account" limit) is given back with `refund`.

    limiter = RateLimiter(redis, prefix="rl:auth")
    attempt = await limiter.hit(
        (RateLimit("login:ip", 20, 900), client_ip),
        (RateLimit("login:account", 5, 900), email),
    )
    ...
    await limiter.refund(attempt)
"""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from redis.asyncio import Redis

from shared.errors import RateLimited

# KEYS: the sorted sets; ARGV[1]: member; then a (limit, window ms) pair per key.
# Returns {0, 0} when the attempt was recorded, {1, retry_after_ms} when refused.
_HIT_SCRIPT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local member = ARGV[1]
local retry = 0
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[i * 2])
  local window = tonumber(ARGV[i * 2 + 1])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local count = redis.call('ZCARD', key)
  if count >= limit then
    local wait = window
    if count > 0 then
      local oldest = redis.call('ZRANGE', key, 0, count - limit, 'WITHSCORES')
      wait = tonumber(oldest[#oldest]) + window - now
    end
    if wait > retry then
      retry = wait
    end
  end
end
if retry > 0 then
  return {1, retry}
end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, tonumber(ARGV[i * 2 + 1]))
end
return {0, 0}
"""


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most `limit` attempts per `window_seconds` for each key of this name."""

    name: str
    limit: int
    window_seconds: int


@dataclass(frozen=True, slots=True)
class Attempt:
    """A recorded attempt: the keys it counts in and its id there (for `refund`)."""

    keys: tuple[str, ...]
    member: str


class RateLimiter:
    def __init__(self, redis: Redis, *, prefix: str = "rl") -> None:
        self.redis = redis
        self.prefix = prefix

    def key(self, limit: RateLimit, subject: str) -> str:
        # Subjects (emails, addresses) are hashed: no personal data in key names, bounded length.
        digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
        return f"{self.prefix}:{limit.name}:{digest}"

    async def hit(self, *checks: tuple[RateLimit, str]) -> Attempt:
        """Record one attempt against every (limit, subject) pair, or raise `RateLimited`."""
        keys = tuple(self.key(limit, subject) for limit, subject in checks)
        member = uuid.uuid4().hex
        args: list[str | int] = [member]
        for limit, _subject in checks:
            args.extend((limit.limit, limit.window_seconds * 1000))
        refused, retry_ms = await self.redis.eval(_HIT_SCRIPT, len(keys), *keys, *args)
        if int(refused):
            raise RateLimited(math.ceil(int(retry_ms) / 1000))
        return Attempt(keys=keys, member=member)

    async def refund(self, attempt: Attempt, keys: Sequence[str] | None = None) -> None:
        """Take an attempt back out of its windows (all of them, or only `keys`)."""
        async with self.redis.pipeline(transaction=True) as pipe:
            for key in attempt.keys if keys is None else keys:
                pipe.zrem(key, attempt.member)
            await pipe.execute()

    async def reset(self, limit: RateLimit, subject: str) -> None:
        await self.redis.delete(self.key(limit, subject))
