"""login: success, generic failures, lockout, deleted accounts, rehashing, the outbox event."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from subgraphs.auth.passwords import default_hasher
from subgraphs.auth.service import LOGIN_FAILED
from tests.auth.support import LOGIN, PASSWORD, AuthHarness, codes


async def _failed_login(auth: AuthHarness, email: str, password: str) -> dict[str, object]:
    result = await auth.gql(LOGIN, {"input": {"email": email, "password": password}})
    assert codes(result) == ["UNAUTHENTICATED"]
    error: dict[str, object] = result["errors"][0]
    return error


async def test_login_success_records_login(
    auth: AuthHarness, unique_email: str, db_session: AsyncSession
) -> None:
    registered = await auth.register(unique_email)
    payload = await auth.login(unique_email.upper(), ip="203.0.113.7")
    assert payload["user"]["id"] == registered["user"]["id"]
    assert payload["refreshToken"] != registered["refreshToken"]
    user_id = uuid.UUID(payload["user"]["id"])
    row = (
        await db_session.execute(
            text("SELECT last_login_at, failed_login_count FROM auth.users WHERE id = :id"),
            {"id": user_id},
        )
    ).one()
    assert row.last_login_at is not None
    assert row.failed_login_count == 0
    event = (
        await db_session.execute(
            text(
                "SELECT data FROM auth.outbox_events "
                "WHERE actor_id = :id AND type = 'auth:user:logged_in'"
            ),
            {"id": user_id},
        )
    ).scalar_one()
    assert event["userId"] == str(user_id)
    assert event["ip"] == "203.0.113.7"
    uuid.UUID(event["sessionId"])


async def test_unknown_email_and_wrong_password_look_the_same(
    auth: AuthHarness, unique_email: str
) -> None:
    await auth.register(unique_email)
    wrong = await _failed_login(auth, unique_email, PASSWORD + "x")
    unknown = await _failed_login(auth, f"nobody-{unique_email}", PASSWORD)
    invalid = await _failed_login(auth, "not an email", PASSWORD)
    assert wrong["message"] == unknown["message"] == invalid["message"] == LOGIN_FAILED


async def test_lockout_after_threshold(
    auth: AuthHarness, unique_email: str, db_session: AsyncSession, committed_engine: AsyncEngine
) -> None:
    await auth.register(unique_email)
    threshold = auth.settings.lockout_threshold
    for _ in range(threshold - 1):
        await _failed_login(auth, unique_email, "Wrong-Password-123")
    count = await db_session.scalar(
        text("SELECT failed_login_count FROM auth.users WHERE email = :e"), {"e": unique_email}
    )
    assert count == threshold - 1
    await _failed_login(auth, unique_email, "Wrong-Password-123")
    locked_until = await db_session.scalar(
        text("SELECT locked_until FROM auth.users WHERE email = :e"), {"e": unique_email}
    )
    assert locked_until is not None

    # Locked: even the right password gets the generic answer.
    error = await _failed_login(auth, unique_email, PASSWORD)
    assert error["message"] == LOGIN_FAILED

    # Once the lock has passed, the right password works and the counter is reset.
    async with committed_engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE auth.users SET locked_until = now() - interval '1 second' WHERE email = :e"
            ),
            {"e": unique_email},
        )
    await auth.login(unique_email)
    row = (
        await db_session.execute(
            text("SELECT failed_login_count, locked_until FROM auth.users WHERE email = :e"),
            {"e": unique_email},
        )
    ).one()
    assert (row.failed_login_count, row.locked_until) == (0, None)


async def test_success_resets_failure_counter(
    auth: AuthHarness, unique_email: str, db_session: AsyncSession
) -> None:
    await auth.register(unique_email)
    for _ in range(auth.settings.lockout_threshold - 1):
        await _failed_login(auth, unique_email, "Wrong-Password-123")
    await auth.login(unique_email)
    for _ in range(auth.settings.lockout_threshold - 1):
        await _failed_login(auth, unique_email, "Wrong-Password-123")
    await auth.login(unique_email)  # not locked: the counter had been reset


async def test_deleted_user_cannot_log_in(
    auth: AuthHarness, unique_email: str, committed_engine: AsyncEngine
) -> None:
    await auth.register(unique_email)
    async with committed_engine.begin() as conn:
        await conn.execute(
            text("UPDATE auth.users SET deleted_at = now() WHERE email = :e"), {"e": unique_email}
        )
    error = await _failed_login(auth, unique_email, PASSWORD)
    assert error["message"] == LOGIN_FAILED


async def test_login_rehashes_when_parameters_change(
    make_harness: Callable[..., AbstractAsyncContextManager[AuthHarness]],
    auth: AuthHarness,
    unique_email: str,
    db_session: AsyncSession,
) -> None:
    await auth.register(unique_email)  # hashed with the suite's cheap parameters
    query = text("SELECT password_hash FROM auth.users WHERE email = :e")
    cheap = await db_session.scalar(query, {"e": unique_email})
    assert "m=1024,t=1,p=1" in cheap
    async with make_harness() as production_like:
        production_like.runtime.passwords.hasher = default_hasher()
        await production_like.login(unique_email)
    rehashed = await db_session.scalar(query, {"e": unique_email})
    assert "m=65536,t=3,p=4" in rehashed
    await auth.login(unique_email)  # the new hash still verifies


async def test_bad_authorization_header_is_unauthenticated(
    auth: AuthHarness, unique_email: str
) -> None:
    await auth.register(unique_email)
    result = await auth.gql(
        LOGIN, {"input": {"email": unique_email, "password": PASSWORD}}, token="garbage"
    )
    assert codes(result) == ["UNAUTHENTICATED"]
