"""changePassword, requestPasswordReset/resetPassword and verifyEmail, mail read from the sink."""

from __future__ import annotations

import hashlib
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tests.auth.support import (
    CHANGE_PASSWORD,
    LOGIN,
    ME,
    PASSWORD,
    REFRESH,
    REQUEST_RESET,
    RESET,
    VERIFY,
    AuthHarness,
    codes,
)

NEW_PASSWORD = "Another-Strong-Passphrase-7"
RESET_SUBJECT = "Reset your password"


async def _reset_token(auth: AuthHarness, email: str) -> str:
    assert await auth.ok(REQUEST_RESET, {"e": email}) == {"requestPasswordReset": True}
    return await auth.token_from_mail(email, RESET_SUBJECT, "reset-password")


async def test_change_password_keeps_this_session_and_ends_the_others(
    auth: AuthHarness, unique_email: str, db_session: AsyncSession
) -> None:
    mine = await auth.register(unique_email)
    other = await auth.login(unique_email)
    result = await auth.ok(
        CHANGE_PASSWORD, {"c": PASSWORD, "n": NEW_PASSWORD}, token=mine["accessToken"]
    )
    assert result == {"changePassword": True}
    await auth.ok(ME, token=mine["accessToken"])
    await auth.ok(REFRESH, {"t": mine["refreshToken"]})
    assert codes(await auth.gql(ME, token=other["accessToken"])) == ["UNAUTHENTICATED"]
    assert codes(await auth.gql(REFRESH, {"t": other["refreshToken"]})) == ["UNAUTHENTICATED"]
    old = await auth.gql(LOGIN, {"input": {"email": unique_email, "password": PASSWORD}})
    assert codes(old) == ["UNAUTHENTICATED"]
    await auth.login(unique_email, NEW_PASSWORD)
    event = (
        await db_session.execute(
            text(
                "SELECT data FROM auth.outbox_events "
                "WHERE actor_id = :id AND type = 'auth:password:changed'"
            ),
            {"id": uuid.UUID(mine["user"]["id"])},
        )
    ).scalar_one()
    assert event == {"userId": mine["user"]["id"], "reason": "change", "revokedSessions": 1}


async def test_change_password_errors(auth: AuthHarness, unique_email: str) -> None:
    payload = await auth.register(unique_email)
    token = payload["accessToken"]
    wrong = await auth.gql(
        CHANGE_PASSWORD, {"c": "Not-The-Password-1", "n": NEW_PASSWORD}, token=token
    )
    assert codes(wrong) == ["BAD_USER_INPUT"]
    assert wrong["errors"][0]["extensions"]["field"] == "currentPassword"
    weak = await auth.gql(CHANGE_PASSWORD, {"c": PASSWORD, "n": "short"}, token=token)
    assert codes(weak) == ["BAD_USER_INPUT"]
    assert weak["errors"][0]["extensions"]["field"] == "newPassword"
    same = await auth.gql(CHANGE_PASSWORD, {"c": PASSWORD, "n": PASSWORD}, token=token)
    assert codes(same) == ["BAD_USER_INPUT"]
    assert same["errors"][0]["extensions"]["field"] == "newPassword"
    anonymous = await auth.gql(CHANGE_PASSWORD, {"c": PASSWORD, "n": NEW_PASSWORD})
    assert codes(anonymous) == ["UNAUTHENTICATED"]
    await auth.login(unique_email)  # nothing changed


async def test_password_reset_flow(
    auth: AuthHarness, unique_email: str, db_session: AsyncSession, committed_engine: AsyncEngine
) -> None:
    payload = await auth.register(unique_email)
    async with committed_engine.begin() as conn:  # a reset also lifts a lockout
        await conn.execute(
            text("UPDATE auth.users SET locked_until = now() + interval '1 hour' WHERE email = :e"),
            {"e": unique_email},
        )
    token = await _reset_token(auth, unique_email)
    message = await auth.mail_to(unique_email, RESET_SUBJECT)
    assert message["From"] == auth.settings.mail_from

    weak = await auth.gql(RESET, {"t": token, "p": "weak"})
    assert codes(weak) == ["BAD_USER_INPUT"]
    assert weak["errors"][0]["extensions"]["field"] == "newPassword"

    assert await auth.ok(RESET, {"t": token, "p": NEW_PASSWORD}) == {"resetPassword": True}
    # Every session ended, access tokens included.
    assert codes(await auth.gql(ME, token=payload["accessToken"])) == ["UNAUTHENTICATED"]
    assert codes(await auth.gql(REFRESH, {"t": payload["refreshToken"]})) == ["UNAUTHENTICATED"]
    await auth.login(unique_email, NEW_PASSWORD)

    used = await auth.gql(RESET, {"t": token, "p": "Yet-Another-Passphrase-8"})
    assert codes(used) == ["BAD_USER_INPUT"]
    assert used["errors"][0]["extensions"]["field"] == "token"
    event = (
        await db_session.execute(
            text(
                "SELECT data FROM auth.outbox_events "
                "WHERE actor_id = :id AND type = 'auth:password:changed'"
            ),
            {"id": uuid.UUID(payload["user"]["id"])},
        )
    ).scalar_one()
    assert event["reason"] == "reset"
    assert event["revokedSessions"] == 1
    stored = await db_session.scalar(
        text("SELECT count(*) FROM auth.one_time_tokens WHERE token_hash = :t OR token_hash = :h"),
        {"t": token, "h": hashlib.sha256(token.encode()).hexdigest()},
    )
    assert stored == 1  # only the hash is stored


async def test_only_the_newest_reset_token_works(auth: AuthHarness, unique_email: str) -> None:
    await auth.register(unique_email)
    first = await _reset_token(auth, unique_email)
    assert await auth.ok(REQUEST_RESET, {"e": unique_email}) == {"requestPasswordReset": True}
    second = await auth.token_from_mail(unique_email, RESET_SUBJECT, "reset-password", count=2)
    assert second != first
    assert codes(await auth.gql(RESET, {"t": first, "p": NEW_PASSWORD})) == ["BAD_USER_INPUT"]
    await auth.ok(RESET, {"t": second, "p": NEW_PASSWORD})


async def test_expired_reset_token(
    auth: AuthHarness, unique_email: str, committed_engine: AsyncEngine
) -> None:
    payload = await auth.register(unique_email)
    token = await _reset_token(auth, unique_email)
    async with committed_engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE auth.one_time_tokens SET expires_at = now() - interval '1 second' "
                "WHERE user_id = :id"
            ),
            {"id": uuid.UUID(payload["user"]["id"])},
        )
    result = await auth.gql(RESET, {"t": token, "p": NEW_PASSWORD})
    assert codes(result) == ["BAD_USER_INPUT"]
    assert result["errors"][0]["extensions"]["field"] == "token"


async def test_reset_request_never_reveals_accounts(
    auth: AuthHarness, unique_email: str, db_session: AsyncSession
) -> None:
    for email in (unique_email, "not an email"):
        assert await auth.ok(REQUEST_RESET, {"e": email}) == {"requestPasswordReset": True}
    queued = await db_session.scalar(
        text("SELECT count(*) FROM auth.outbound_emails WHERE to_address = :e"),
        {"e": unique_email},
    )
    assert queued == 0


async def test_reset_for_deleted_account_is_silent_and_token_dies(
    auth: AuthHarness, unique_email: str, committed_engine: AsyncEngine
) -> None:
    await auth.register(unique_email)
    token = await _reset_token(auth, unique_email)
    async with committed_engine.begin() as conn:
        await conn.execute(
            text("UPDATE auth.users SET deleted_at = now() WHERE email = :e"), {"e": unique_email}
        )
    assert await auth.ok(REQUEST_RESET, {"e": unique_email}) == {"requestPasswordReset": True}
    result = await auth.gql(RESET, {"t": token, "p": NEW_PASSWORD})
    assert codes(result) == ["BAD_USER_INPUT"]


async def test_verify_email_errors(auth: AuthHarness, unique_email: str) -> None:
    await auth.register(unique_email)
    token = await auth.token_from_mail(unique_email, "Verify your e-mail address", "verify-email")
    bad = await auth.gql(VERIFY, {"t": "nonsense"})
    assert codes(bad) == ["BAD_USER_INPUT"]
    assert bad["errors"][0]["extensions"]["field"] == "token"
    # A verification token is not a reset token, and vice versa.
    assert codes(await auth.gql(RESET, {"t": token, "p": NEW_PASSWORD})) == ["BAD_USER_INPUT"]
    assert await auth.ok(VERIFY, {"t": token}) == {"verifyEmail": True}
    assert codes(await auth.gql(VERIFY, {"t": token})) == ["BAD_USER_INPUT"]


async def test_change_password_of_deleted_account(
    auth: AuthHarness, unique_email: str, committed_engine: AsyncEngine
) -> None:
    payload = await auth.register(unique_email)
    async with committed_engine.begin() as conn:
        await conn.execute(
            text("UPDATE auth.users SET deleted_at = now() WHERE email = :e"), {"e": unique_email}
        )
    result = await auth.gql(
        CHANGE_PASSWORD, {"c": PASSWORD, "n": NEW_PASSWORD}, token=payload["accessToken"]
    )
    assert codes(result) == ["UNAUTHENTICATED"]
