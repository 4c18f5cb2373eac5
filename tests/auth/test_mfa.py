"""TOTP multi-factor sign-in: enrolment, the two-step login, replay, recovery codes, lockout,
rate limits, disabling, mfaEnabled visibility, audit events, secrets at rest."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import jwt
import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.auth.mfa_support import (
    CONFIRM,
    DISABLE,
    LOGIN_TOTP,
    MFA_ENABLED,
    START,
    code_at,
    current_step,
    wrong_code,
)
from tests.auth.support import ENTITIES, LOGIN, PASSWORD, REFRESH, AuthHarness, codes


@dataclass
class Enrolled:
    email: str
    user_id: str
    token: str
    secret: str
    recovery_codes: list[str]
    step: int  # the step whose code confirmed the enrolment (s-1 of the current one)


async def enrol(auth: AuthHarness, email: str) -> Enrolled:
    registered = await auth.register(email)
    token = registered["accessToken"]
    setup = (await auth.ok(START, token=token))["startTotpEnrollment"]
    step = await current_step()
    confirmed = await auth.ok(CONFIRM, {"c": code_at(setup["secret"], step - 1)}, token=token)
    return Enrolled(
        email=email,
        user_id=registered["user"]["id"],
        token=token,
        secret=setup["secret"],
        recovery_codes=confirmed["confirmTotpEnrollment"]["recoveryCodes"],
        step=step - 1,
    )


async def mfa_token(auth: AuthHarness, email: str) -> str:
    result = await auth.gql(LOGIN, {"input": {"email": email, "password": PASSWORD}})
    assert codes(result) == ["MFA_REQUIRED"], result
    assert result["data"] is None
    token: str = result["errors"][0]["extensions"]["mfaToken"]
    return token


async def second_step(auth: AuthHarness, token: str, code: str) -> dict[str, Any]:
    return await auth.gql(LOGIN_TOTP, {"t": token, "c": code})


def claims(access_token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(access_token, options={"verify_signature": False})
    return decoded


async def events_of(engine: AsyncEngine, user_id: str, type_: str) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT data FROM auth.outbox_events WHERE actor_id = :id AND type = :t "
                "ORDER BY occurred_at"
            ),
            {"id": uuid.UUID(user_id), "t": type_},
        )
        return [row.data for row in rows]


async def test_enrolment_replaces_unconfirmed_and_confirms_with_a_current_code(
    auth: AuthHarness, unique_email: str, committed_engine: AsyncEngine
) -> None:
    registered = await auth.register(unique_email)
    token = registered["accessToken"]
    assert (await auth.ok(MFA_ENABLED, token=token))["me"]["mfaEnabled"] is False
    first = (await auth.ok(START, token=token))["startTotpEnrollment"]
    second = (await auth.ok(START, token=token))["startTotpEnrollment"]
    assert first["secret"] != second["secret"]
    uri = urlparse(second["otpauthUri"])
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    query = parse_qs(uri.query)
    assert query["secret"] == [second["secret"]]
    assert query.get("algorithm", ["SHA1"]) == ["SHA1"]
    assert query.get("digits", ["6"]) == ["6"]
    assert query.get("period", ["30"]) == ["30"]
    assert unique_email in unquote(uri.path)
    assert (await auth.ok(MFA_ENABLED, token=token))["me"]["mfaEnabled"] is False

    step = await current_step()
    # The replaced secret no longer works; a wrong code is BAD_USER_INPUT on `code`.
    for code in (code_at(first["secret"], step), wrong_code(second["secret"], step)):
        result = await auth.gql(CONFIRM, {"c": code}, token=token)
        assert codes(result) == ["BAD_USER_INPUT"]
        assert result["errors"][0]["extensions"]["field"] == "code"
    confirmed = await auth.ok(CONFIRM, {"c": code_at(second["secret"], step)}, token=token)
    recovery = confirmed["confirmTotpEnrollment"]["recoveryCodes"]
    assert len(recovery) == 10
    assert len(set(recovery)) == 10
    assert (await auth.ok(MFA_ENABLED, token=token))["me"]["mfaEnabled"] is True
    # Enrolling again while enabled is refused (disable first).
    assert codes(await auth.gql(START, token=token)) == ["CONFLICT"]

    user_id = registered["user"]["id"]
    [event] = await events_of(committed_engine, user_id, "auth:mfa:enabled")
    assert event["userId"] == user_id
    assert second["secret"] not in str(event)
    assert not any(code in str(event) for code in recovery)


async def test_secret_is_encrypted_and_recovery_codes_hashed_at_rest(
    auth: AuthHarness, unique_email: str, committed_engine: AsyncEngine
) -> None:
    enrolled = await enrol(auth, unique_email)
    async with committed_engine.connect() as conn:
        stored = (
            await conn.execute(
                text("SELECT * FROM auth.totp_credentials WHERE user_id = :id"),
                {"id": uuid.UUID(enrolled.user_id)},
            )
        ).one()
        hashes = list(
            (
                await conn.execute(
                    text("SELECT code_hash FROM auth.recovery_codes WHERE user_id = :id"),
                    {"id": uuid.UUID(enrolled.user_id)},
                )
            ).scalars()
        )
    row = str(stored._asdict())
    assert enrolled.secret not in row
    assert enrolled.secret.encode() not in bytes(stored.secret_encrypted)
    assert len(hashes) == 10
    for code in enrolled.recovery_codes:
        assert code not in str(hashes)
        assert hashlib.sha256(code.encode()).hexdigest() not in hashes


async def test_login_of_an_enrolled_account_needs_the_second_factor(
    auth: AuthHarness, unique_email: str, committed_engine: AsyncEngine
) -> None:
    enrolled = await enrol(auth, unique_email)
    token = await mfa_token(auth, unique_email)
    result = await second_step(auth, token, code_at(enrolled.secret, enrolled.step + 1))
    assert "errors" not in result, result
    payload = result["data"]["loginWithTotp"]
    assert payload["user"]["email"] == unique_email
    assert claims(payload["accessToken"])["amr"] == ["pwd", "otp"]
    # The mfaToken works once.
    again = await second_step(auth, token, code_at(enrolled.secret, enrolled.step + 2))
    assert codes(again) == ["UNAUTHENTICATED"]
    # A refreshed session keeps its factors.
    refreshed = await auth.ok(REFRESH, {"t": payload["refreshToken"]})
    assert claims(refreshed["refreshToken"]["accessToken"])["amr"] == ["pwd", "otp"]
    [event] = await events_of(committed_engine, enrolled.user_id, "auth:user:logged_in")
    assert event["mfa"] == "totp"


async def test_password_logins_carry_pwd_only(auth: AuthHarness, unique_email: str) -> None:
    registered = await auth.register(unique_email)
    assert claims(registered["accessToken"])["amr"] == ["pwd"]
    assert claims((await auth.login(unique_email))["accessToken"])["amr"] == ["pwd"]


async def test_mfa_token_is_stored_hashed_for_five_minutes(
    auth: AuthHarness, unique_email: str, redis: Redis
) -> None:
    await enrol(auth, unique_email)
    token = await mfa_token(auth, unique_email)
    assert await redis.exists(f"mfa:login:{token}") == 0
    key = f"mfa:login:{hashlib.sha256(token.encode()).hexdigest()}"
    assert 290 <= await redis.ttl(key) <= 300
    await redis.delete(key)  # as if five minutes had passed
    enrolled_code = "000000"
    assert codes(await second_step(auth, token, enrolled_code)) == ["UNAUTHENTICATED"]
    assert codes(await second_step(auth, "made-up", enrolled_code)) == ["UNAUTHENTICATED"]


async def test_a_totp_code_is_accepted_once(auth: AuthHarness, unique_email: str) -> None:
    enrolled = await enrol(auth, unique_email)
    used = code_at(enrolled.secret, enrolled.step + 1)
    assert "errors" not in await second_step(auth, await mfa_token(auth, unique_email), used)
    token = await mfa_token(auth, unique_email)
    replay = await second_step(auth, token, used)
    assert codes(replay) == ["BAD_USER_INPUT"]
    assert replay["errors"][0]["extensions"]["field"] == "code"
    # The confirming step is older than the last one used: refused too.
    older = await second_step(auth, token, code_at(enrolled.secret, enrolled.step))
    assert codes(older) == ["BAD_USER_INPUT"]
    newer = await second_step(auth, token, code_at(enrolled.secret, enrolled.step + 2))
    assert "errors" not in newer, newer


async def test_a_recovery_code_works_once(
    auth: AuthHarness, unique_email: str, committed_engine: AsyncEngine
) -> None:
    enrolled = await enrol(auth, unique_email)
    code = enrolled.recovery_codes[3]
    first = await second_step(auth, await mfa_token(auth, unique_email), code.upper())
    assert "errors" not in first, first
    assert claims(first["data"]["loginWithTotp"]["accessToken"])["amr"] == ["pwd", "otp"]
    again = await second_step(auth, await mfa_token(auth, unique_email), code)
    assert codes(again) == ["BAD_USER_INPUT"]
    [event] = await events_of(committed_engine, enrolled.user_id, "auth:user:logged_in")
    assert event["mfa"] == "recovery_code"


async def test_wrong_codes_count_towards_lockout(
    auth: AuthHarness, unique_email: str, committed_engine: AsyncEngine
) -> None:
    enrolled = await enrol(auth, unique_email)
    token = await mfa_token(auth, unique_email)
    step = await current_step()
    for _ in range(auth.settings.lockout_threshold):
        result = await second_step(auth, token, wrong_code(enrolled.secret, step))
        assert codes(result) == ["BAD_USER_INPUT"]
    async with committed_engine.connect() as conn:
        locked_until = await conn.scalar(
            text("SELECT locked_until FROM auth.users WHERE id = :id"),
            {"id": uuid.UUID(enrolled.user_id)},
        )
    assert locked_until is not None
    # Locked: even the right code (or the password) gets nothing.
    right = await second_step(auth, token, code_at(enrolled.secret, step + 1))
    assert codes(right) == ["UNAUTHENTICATED"]
    login = await auth.gql(LOGIN, {"input": {"email": unique_email, "password": PASSWORD}})
    assert codes(login) == ["UNAUTHENTICATED"]
    failed = await events_of(committed_engine, enrolled.user_id, "auth:mfa:failed")
    assert len(failed) == auth.settings.lockout_threshold
    assert failed[-1]["stage"] == "login"
    assert failed[-1]["locked"] is True


async def test_wrong_codes_are_rate_limited(
    make_harness: Callable[..., AbstractAsyncContextManager[AuthHarness]], unique_email: str
) -> None:
    async with make_harness(auth_rate_limit_per_account=3, lockout_threshold=50) as limited:
        enrolled = await enrol(limited, unique_email)
        token = await mfa_token(limited, unique_email)
        step = await current_step()
        for _ in range(3):
            result = await second_step(limited, token, wrong_code(enrolled.secret, step))
            assert codes(result) == ["BAD_USER_INPUT"]
        refused = await second_step(limited, token, code_at(enrolled.secret, step + 1))
        assert codes(refused) == ["RATE_LIMITED"]
        assert refused["errors"][0]["extensions"]["retryAfter"] > 0
        # disableTotp shares the account's budget of wrong codes.
        disable = await limited.gql(DISABLE, {"c": "000000"}, token=enrolled.token)
        assert codes(disable) == ["RATE_LIMITED"]


async def test_disable_with_totp_or_recovery_code(
    auth: AuthHarness, unique_email: str, committed_engine: AsyncEngine
) -> None:
    enrolled = await enrol(auth, unique_email)
    step = await current_step()
    wrong = await auth.gql(DISABLE, {"c": wrong_code(enrolled.secret, step)}, token=enrolled.token)
    assert codes(wrong) == ["BAD_USER_INPUT"]
    # The code that confirmed the enrolment was used: it cannot disable.
    replay = await auth.gql(
        DISABLE, {"c": code_at(enrolled.secret, enrolled.step)}, token=enrolled.token
    )
    assert codes(replay) == ["BAD_USER_INPUT"]
    done = await auth.ok(DISABLE, {"c": code_at(enrolled.secret, step + 1)}, token=enrolled.token)
    assert done == {"disableTotp": True}
    assert (await auth.ok(MFA_ENABLED, token=enrolled.token))["me"]["mfaEnabled"] is False
    assert claims((await auth.login(unique_email))["accessToken"])["amr"] == ["pwd"]
    [event] = await events_of(committed_engine, enrolled.user_id, "auth:mfa:disabled")
    assert event == {"userId": enrolled.user_id, "method": "totp"}
    failed = await events_of(committed_engine, enrolled.user_id, "auth:mfa:failed")
    assert [e["stage"] for e in failed] == ["disable", "disable"]
    async with committed_engine.connect() as conn:
        left = await conn.scalar(
            text("SELECT count(*) FROM auth.recovery_codes WHERE user_id = :id"),
            {"id": uuid.UUID(enrolled.user_id)},
        )
    assert left == 0

    other = await enrol(auth, f"other-{unique_email}")
    by_recovery = await auth.ok(DISABLE, {"c": other.recovery_codes[0]}, token=other.token)
    assert by_recovery == {"disableTotp": True}
    assert codes(await auth.gql(DISABLE, {"c": "000000"}, token=other.token)) == ["BAD_USER_INPUT"]


async def test_mfa_operations_need_a_caller(auth: AuthHarness) -> None:
    for query, variables in ((START, None), (CONFIRM, {"c": "1"}), (DISABLE, {"c": "1"})):
        assert codes(await auth.gql(query, variables)) == ["UNAUTHENTICATED"]


async def test_mfa_enabled_is_for_self_or_admin(
    auth: AuthHarness, auth_subgraph: Any, unique_email: str
) -> None:
    from shared.scopes import Role

    enrolled = await enrol(auth, unique_email)
    query = ENTITIES.replace("emailVerified }", "emailVerified mfaEnabled }")

    def reps() -> dict[str, Any]:
        return {"r": [{"__typename": "User", "id": enrolled.user_id}]}

    own = await auth.ok(query, reps(), token=enrolled.token)
    assert own["_entities"][0]["mfaEnabled"] is True
    stranger = await auth.gql(
        query, reps(), token=(await auth.register(f"x-{unique_email}"))["accessToken"]
    )
    assert codes(stranger) == ["FORBIDDEN"]
    admin = await auth_subgraph.ok(query, reps(), as_=auth_subgraph.caller(Role.ADMIN))
    assert admin["_entities"][0]["mfaEnabled"] is True


async def test_no_secret_or_code_reaches_the_logs(
    auth: AuthHarness, unique_email: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        enrolled = await enrol(auth, unique_email)
        token = await mfa_token(auth, unique_email)
        await second_step(auth, token, "999999")
        await second_step(auth, token, enrolled.recovery_codes[0])
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    for value in (enrolled.secret, token, *enrolled.recovery_codes):
        assert value not in logged
