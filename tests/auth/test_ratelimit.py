"""The shared Redis limiter, and the per-address / per-account limits of the auth operations."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

import pytest
from redis.asyncio import Redis

from shared.errors import RateLimited
from shared.ratelimit import RateLimit, RateLimiter
from tests.auth.support import (
    LOGIN,
    PASSWORD,
    REGISTER,
    REQUEST_RESET,
    RESET,
    AuthHarness,
    codes,
    new_ip,
)

WINDOW = 60


def _limit(limit: int, window: int = WINDOW) -> RateLimit:
    return RateLimit(f"test-{uuid.uuid4().hex[:8]}", limit, window)


async def test_limiter_allows_up_to_the_limit_then_says_when(redis: Redis) -> None:
    limiter = RateLimiter(redis, prefix="rl:test")
    limit = _limit(3)
    for _ in range(3):
        await limiter.hit((limit, "subject"))
    with pytest.raises(RateLimited) as refused:
        await limiter.hit((limit, "subject"))
    assert 1 <= refused.value.retry_after <= WINDOW
    assert refused.value.extensions == {"retryAfter": refused.value.retry_after}
    await limiter.hit((limit, "another subject"))  # keys are per subject
    key = limiter.key(limit, "subject")
    assert "subject" not in key  # subjects are hashed
    assert 0 < await redis.pttl(key) <= WINDOW * 1000


async def test_limiter_is_atomic_under_concurrency(redis: Redis) -> None:
    limiter = RateLimiter(redis, prefix="rl:test")
    limit = _limit(5)

    async def attempt() -> bool:
        try:
            await limiter.hit((limit, "x"))
        except RateLimited:
            return False
        return True

    results = await asyncio.gather(*(attempt() for _ in range(30)))
    assert results.count(True) == 5


async def test_refused_attempt_consumes_no_other_limit(redis: Redis) -> None:
    limiter = RateLimiter(redis, prefix="rl:test")
    tight, loose = _limit(1), _limit(10)
    await limiter.hit((tight, "a"), (loose, "b"))
    for _ in range(3):
        with pytest.raises(RateLimited):
            await limiter.hit((tight, "a"), (loose, "b"))
    assert await redis.zcard(limiter.key(loose, "b")) == 1


async def test_refund_and_reset(redis: Redis) -> None:
    limiter = RateLimiter(redis, prefix="rl:test")
    limit = _limit(1)
    attempt = await limiter.hit((limit, "s"))
    await limiter.refund(attempt)
    attempt = await limiter.hit((limit, "s"))
    with pytest.raises(RateLimited):
        await limiter.hit((limit, "s"))
    await limiter.reset(limit, "s")
    await limiter.hit((limit, "s"))


async def test_window_slides(redis: Redis) -> None:
    limiter = RateLimiter(redis, prefix="rl:test")
    limit = _limit(1, window=1)
    await limiter.hit((limit, "s"))
    with pytest.raises(RateLimited) as refused:
        await limiter.hit((limit, "s"))
    assert refused.value.retry_after == 1
    await asyncio.sleep(1.05)
    await limiter.hit((limit, "s"))


@pytest.fixture(scope="module")
async def limited(
    make_harness: Callable[..., AbstractAsyncContextManager[AuthHarness]],
) -> AsyncIterator[AuthHarness]:
    async with make_harness(
        auth_rate_limit_per_ip=3, auth_rate_limit_per_account=2, lockout_threshold=100
    ) as harness:
        yield harness


def _assert_rate_limited(result: dict[str, object]) -> None:
    assert codes(result) == ["RATE_LIMITED"]
    errors = result["errors"]
    assert isinstance(errors, list)
    retry_after = errors[0]["extensions"]["retryAfter"]
    assert isinstance(retry_after, int)
    assert 1 <= retry_after <= 15 * 60


async def test_login_limited_per_ip(limited: AuthHarness, unique_email: str) -> None:
    ip = new_ip()
    for n in range(3):
        result = await limited.gql(
            LOGIN, {"input": {"email": f"{n}-{unique_email}", "password": PASSWORD}}, ip=ip
        )
        assert codes(result) == ["UNAUTHENTICATED"]
    _assert_rate_limited(
        await limited.gql(LOGIN, {"input": {"email": unique_email, "password": PASSWORD}}, ip=ip)
    )


async def test_login_failures_limited_per_account(limited: AuthHarness, unique_email: str) -> None:
    await limited.register(unique_email, ip=new_ip())
    # Successful logins do not use up the account's budget...
    for _ in range(3):
        await limited.login(unique_email, ip=new_ip())
    # ... failed ones do, whatever address they come from.
    for _ in range(2):
        result = await limited.gql(
            LOGIN, {"input": {"email": unique_email, "password": "Wrong-Pass-123"}}, ip=new_ip()
        )
        assert codes(result) == ["UNAUTHENTICATED"]
    _assert_rate_limited(
        await limited.gql(
            LOGIN, {"input": {"email": unique_email, "password": PASSWORD}}, ip=new_ip()
        )
    )


async def test_register_limited_per_ip_and_per_email(
    limited: AuthHarness, unique_email: str
) -> None:
    ip = new_ip()
    for n in range(3):
        await limited.register(f"{n}-{unique_email}", ip=ip)
    variables = {"input": {"email": unique_email, "password": PASSWORD, "name": "N"}}
    _assert_rate_limited(await limited.gql(REGISTER, variables, ip=ip))
    outcomes = [codes(await limited.gql(REGISTER, variables, ip=new_ip())) for _ in range(2)]
    assert outcomes == [[], ["CONFLICT"]]
    _assert_rate_limited(await limited.gql(REGISTER, variables, ip=new_ip()))


async def test_password_reset_requests_limited(limited: AuthHarness, unique_email: str) -> None:
    for _ in range(2):
        assert await limited.ok(REQUEST_RESET, {"e": unique_email}, ip=new_ip())
    _assert_rate_limited(await limited.gql(REQUEST_RESET, {"e": unique_email}, ip=new_ip()))
    ip = new_ip()
    for n in range(3):
        await limited.ok(REQUEST_RESET, {"e": f"{n}-{unique_email}"}, ip=ip)
    _assert_rate_limited(await limited.gql(REQUEST_RESET, {"e": f"x-{unique_email}"}, ip=ip))


async def test_reset_password_limited_per_ip(limited: AuthHarness) -> None:
    ip = new_ip()
    for _ in range(3):
        result = await limited.gql(RESET, {"t": uuid.uuid4().hex, "p": PASSWORD}, ip=ip)
        assert codes(result) == ["BAD_USER_INPUT"]
    _assert_rate_limited(await limited.gql(RESET, {"t": uuid.uuid4().hex, "p": PASSWORD}, ip=ip))
