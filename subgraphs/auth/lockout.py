"""Failed sign-in attempts: the account lockout and the rate limiter, shared by the password
step (`service.login`) and the second factor (`mfa.py`), so both count towards the same lock.

`LOCKOUT_THRESHOLD` consecutive failures lock the account for `LOCKOUT_SECONDS`; the counter
restarts after a lock; failures during a lock are not counted; a complete sign-in clears it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from redis.asyncio import Redis

from shared.ratelimit import RateLimiter
from subgraphs.auth.models import User
from subgraphs.auth.runtime import AuthRuntime

log = logging.getLogger("bff.auth")

RATE_LIMIT_PREFIX = "rl:auth"


def limiter(redis: Redis) -> RateLimiter:
    return RateLimiter(redis, prefix=RATE_LIMIT_PREFIX)


def client_key(client_ip: str | None) -> str:
    return client_ip or "unknown"


def is_locked(user: User, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def count_failure(runtime: AuthRuntime, user: User, now: datetime) -> None:
    """One more failed attempt (a wrong password or a wrong second-factor code)."""
    if is_locked(user, now):
        return
    settings = runtime.settings
    user.failed_login_count += 1
    if user.failed_login_count >= settings.lockout_threshold:
        user.locked_until = now + timedelta(seconds=settings.lockout_seconds)
        user.failed_login_count = 0
        log.warning("account locked", extra={"user_id": str(user.id)})


def record_sign_in(user: User, now: datetime) -> None:
    """A complete sign-in: the failure counter and any lock are cleared."""
    user.failed_login_count = 0
    user.locked_until = None
    user.last_login_at = now
    user.updated_at = now
