"""requestPasswordReset does the same work whether or not the account exists (finding 9).

The request only records the (normalised) address in `auth.password_reset_requests` and commits;
the mail sender's pass turns a recorded request into a token and a mail for a live account, and
into nothing otherwise. The proof is structural: the same SQL statements on the request path.
"""

from __future__ import annotations

import asyncio
import re
import time

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from subgraphs.auth import recovery
from tests.auth.support import REQUEST_RESET, AuthHarness
from tests.helpers import count_statements

RESET_SUBJECT = "Reset your password"


def _shape(statement: str) -> str:
    """A statement without its bound values' placeholders numbering or whitespace."""
    return re.sub(r"\s+", " ", statement).strip()


async def _request(auth: AuthHarness, engine: AsyncEngine, redis: Redis, email: str) -> list[str]:
    with count_statements(engine) as counter:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            assert await recovery.request_password_reset(
                session=session,
                runtime=auth.runtime,
                redis=redis,
                client_ip="198.51.100.9",
                email=email,
            )
    return [_shape(s) for s in counter.statements]


async def test_existing_and_unknown_accounts_run_the_same_statements(
    auth: AuthHarness, unique_email: str, committed_engine: AsyncEngine, redis: Redis
) -> None:
    await auth.register(unique_email)
    existing = await _request(auth, committed_engine, redis, unique_email)
    unknown = await _request(auth, committed_engine, redis, f"nobody-{unique_email}")
    assert existing == unknown
    # Nothing on the request path looks the account up or writes anything account-specific.
    assert not any("auth.users" in s or "one_time_tokens" in s for s in existing)
    assert not any("outbound_emails" in s for s in existing)


async def _processed(engine: AsyncEngine, email: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        async with engine.connect() as conn:
            pending = await conn.scalar(
                text("SELECT count(*) FROM auth.password_reset_requests WHERE email = :e"),
                {"e": email},
            )
        if pending == 0:
            return
        assert time.monotonic() < deadline, "reset request never processed"
        await asyncio.sleep(0.05)


async def test_requests_are_processed_off_the_request_path(
    auth: AuthHarness, unique_email: str, committed_engine: AsyncEngine
) -> None:
    await auth.register(unique_email)
    ghost = f"ghost-{unique_email}"
    for email in (unique_email, ghost):
        assert await auth.ok(REQUEST_RESET, {"e": email}) == {"requestPasswordReset": True}
    # The account's mail arrives (the sender's pass made the token and queued it) ...
    await auth.mail_to(unique_email, RESET_SUBJECT)
    # ... and the unknown address's request is consumed without queueing anything.
    await _processed(committed_engine, ghost)
    await _processed(committed_engine, unique_email)
    async with committed_engine.connect() as conn:
        queued = await conn.scalar(
            text("SELECT count(*) FROM auth.outbound_emails WHERE to_address = :e"), {"e": ghost}
        )
    assert queued == 0
