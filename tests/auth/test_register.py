"""register: accounts, validation, only CUSTOMER self-registers, duplicates, outbox, mail."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.auth.support import PASSWORD, REGISTER, AuthHarness, codes


async def test_register_creates_customer_and_signs_in(
    auth: AuthHarness, unique_email: str, db_session: AsyncSession
) -> None:
    payload = await auth.register(unique_email.upper(), name="  Ada   Lovelace ")
    user = payload["user"]
    assert user["email"] == unique_email
    assert user["name"] == "Ada Lovelace"
    assert user["role"] == "CUSTOMER"
    assert user["emailVerified"] is False
    assert payload["expiresIn"] == 900
    assert payload["accessToken"].count(".") == 2
    assert len(payload["refreshToken"]) >= 43

    me = await auth.ok("{ me { id email } }", token=payload["accessToken"])
    assert me["me"] == {"id": user["id"], "email": unique_email}

    row = (
        await db_session.execute(
            text("SELECT password_hash, role FROM auth.users WHERE id = :id"),
            {"id": uuid.UUID(user["id"])},
        )
    ).one()
    assert row.password_hash.startswith("$argon2id$")
    assert row.role == "CUSTOMER"
    events = (
        await db_session.execute(
            text("SELECT type, actor_id, data FROM auth.outbox_events WHERE actor_id = :id"),
            {"id": uuid.UUID(user["id"])},
        )
    ).all()
    assert [e.type for e in events] == ["auth:user:registered"]
    assert events[0].data == {
        "userId": user["id"],
        "email": unique_email,
        "name": "Ada Lovelace",
        "role": "CUSTOMER",
    }
    stored = (
        await db_session.execute(
            text("SELECT token_hash FROM auth.refresh_tokens WHERE user_id = :id"),
            {"id": uuid.UUID(user["id"])},
        )
    ).scalar_one()
    assert len(stored) == 64
    assert payload["refreshToken"] not in stored


async def test_register_null_role_means_customer(auth: AuthHarness, unique_email: str) -> None:
    payload = await auth.register(unique_email, role=None)
    assert payload["user"]["role"] == "CUSTOMER"


@pytest.mark.parametrize("role", ["ADMIN", "VENDOR"])
async def test_only_customers_may_self_register(
    auth: AuthHarness, unique_email: str, db_session: AsyncSession, role: str
) -> None:
    """Finding 4: VENDOR (payments scopes) and ADMIN are created or promoted by an ADMIN only;
    nothing is stored (no account, no event, no mail)."""
    result = await auth.gql(
        REGISTER,
        {"input": {"email": unique_email, "password": PASSWORD, "name": "X", "role": role}},
    )
    assert codes(result) == ["FORBIDDEN"]
    assert result["data"] is None
    count = await db_session.scalar(
        text("SELECT count(*) FROM auth.users WHERE email = :e"), {"e": unique_email}
    )
    assert count == 0
    mails = await db_session.scalar(
        text("SELECT count(*) FROM auth.outbound_emails WHERE to_address = :e"),
        {"e": unique_email},
    )
    assert mails == 0


async def test_duplicate_email_conflict_case_insensitive(
    auth: AuthHarness, unique_email: str
) -> None:
    await auth.register(unique_email)
    for variant in (unique_email, unique_email.upper(), f"  {unique_email.title()} "):
        result = await auth.gql(
            REGISTER, {"input": {"email": variant, "password": PASSWORD, "name": "Again"}}
        )
        assert codes(result) == ["CONFLICT"], variant


async def test_concurrent_duplicate_registration_one_wins(
    auth: AuthHarness, unique_email: str
) -> None:
    import asyncio

    variables = {"input": {"email": unique_email, "password": PASSWORD, "name": "Racer"}}
    results = await asyncio.gather(*(auth.gql(REGISTER, variables) for _ in range(4)))
    outcomes = sorted("ok" if "errors" not in r else codes(r)[0] for r in results)
    assert outcomes == ["CONFLICT", "CONFLICT", "CONFLICT", "ok"]


@pytest.mark.parametrize(
    ("email", "name", "password", "field"),
    [
        ("not-an-email", "Name", PASSWORD, "email"),
        ("a@b", "Name", PASSWORD, "email"),
        ("{unique}", "   ", PASSWORD, "name"),
        ("{unique}", "x" * 101, PASSWORD, "name"),
        ("{unique}", "Name", "Short-1", "password"),
        ("{unique}", "Name", "aaaaaaaaaaaaaaaa", "password"),
        ("{unique}", "Name", "alllowercaseletters", "password"),
        ("{unique}", "Name", "Aa1!" * 33, "password"),
    ],
)
async def test_register_validation(
    auth: AuthHarness, unique_email: str, email: str, name: str, password: str, field: str
) -> None:
    email = email.replace("{unique}", unique_email)
    result = await auth.gql(
        REGISTER, {"input": {"email": email, "password": password, "name": name}}
    )
    assert codes(result) == ["BAD_USER_INPUT"]
    assert result["errors"][0]["extensions"]["field"] == field


async def test_password_containing_email_local_part_refused(
    auth: AuthHarness, unique_email: str
) -> None:
    local = unique_email.split("@")[0]
    result = await auth.gql(
        REGISTER,
        {"input": {"email": unique_email, "password": f"X{local.upper()}!9", "name": "N"}},
    )
    assert codes(result) == ["BAD_USER_INPUT"]
    assert result["errors"][0]["extensions"]["field"] == "password"


async def test_registration_sends_verification_mail(auth: AuthHarness, unique_email: str) -> None:
    payload = await auth.register(unique_email)
    token = await auth.token_from_mail(unique_email, "Verify your e-mail address", "verify-email")
    assert await auth.ok("mutation($t: String!) { verifyEmail(token: $t) }", {"t": token}) == {
        "verifyEmail": True
    }
    me = await auth.ok("{ me { emailVerified } }", token=payload["accessToken"])
    assert me["me"]["emailVerified"] is True
