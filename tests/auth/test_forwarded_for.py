"""X-Forwarded-For names the client only when the router sent the request (issue 8, finding 5):
a caller talking to a subgraph directly cannot pick the address its rate limits are kept under."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

import httpx
import pytest

from tests.auth.support import LOGIN, PASSWORD, AuthHarness, codes, new_ip
from tests.helpers import gql


@pytest.fixture(scope="module")
async def unsigned(
    make_harness: Callable[..., AbstractAsyncContextManager[AuthHarness]],
) -> AsyncIterator[AuthHarness]:
    """An auth app that serves requests the router did not sign (as only tests configure it)."""
    async with make_harness(
        require_router_signature=False, auth_rate_limit_per_ip=3, lockout_threshold=100
    ) as harness:
        yield harness


@pytest.fixture(scope="module")
async def signed(
    make_harness: Callable[..., AbstractAsyncContextManager[AuthHarness]],
) -> AsyncIterator[AuthHarness]:
    async with make_harness(auth_rate_limit_per_ip=3, lockout_threshold=100) as harness:
        yield harness


async def test_a_spoofed_forwarded_for_sent_directly_is_ignored(
    unsigned: AuthHarness, unique_email: str
) -> None:
    # A peer address of this test's own (the limits live in the shared Redis). Each attempt claims
    # another address; all of them count against the peer.
    transport = httpx.ASGITransport(app=unsigned.app, client=(new_ip(), 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://auth.test") as direct:
        for n in range(3):
            result = await gql(
                direct,
                LOGIN,
                {"input": {"email": f"{n}-{unique_email}", "password": PASSWORD}},
                signed=False,
                headers={"x-forwarded-for": new_ip()},
            )
            assert codes(result) == ["UNAUTHENTICATED"], result
        result = await gql(
            direct,
            LOGIN,
            {"input": {"email": unique_email, "password": PASSWORD}},
            signed=False,
            headers={"x-forwarded-for": new_ip()},
        )
        assert codes(result) == ["RATE_LIMITED"], result


async def test_the_routers_forwarded_for_is_honoured(
    signed: AuthHarness, unique_email: str
) -> None:
    # Signed (the router's request): each client address has a budget of its own.
    for n in range(5):
        result = await signed.gql(
            LOGIN, {"input": {"email": f"{n}-{unique_email}", "password": PASSWORD}}, ip=new_ip()
        )
        assert codes(result) == ["UNAUTHENTICATED"], result
