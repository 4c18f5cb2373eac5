"""The `User` entity: `_entities` through the per-request loader (one statement for N ids)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.lifetime import Resources
from subgraphs.auth.models import User as UserRow
from subgraphs.auth.types import DELETED_USER_NAME, User, resolve_mfa_enabled
from tests.auth.support import ENTITIES, AuthHarness
from tests.helpers import count_statements


def _not_mail_poll(statement: str) -> bool:
    # The app's mail sender shares the engine and may poll meanwhile: not this request's SQL.
    return "outbound_emails" in statement or "password_reset_requests" in statement


def _engine(auth: AuthHarness) -> AsyncEngine:
    resources: Resources = auth.app.state.resources
    return resources.engine


async def test_entities_resolve_users(auth: AuthHarness, unique_email: str) -> None:
    payload = await auth.register(unique_email, name="Entity Person")
    user_id = payload["user"]["id"]
    data = await auth.ok(
        ENTITIES,
        {
            "r": [
                {"__typename": "User", "id": user_id},
                {"__typename": "User", "id": str(uuid.uuid4())},
                {"__typename": "User", "id": "not-a-uuid"},
            ]
        },
    )
    assert data["_entities"] == [
        {
            "id": user_id,
            "email": unique_email,
            "name": "Entity Person",
            "role": "CUSTOMER",
            "emailVerified": False,
        },
        None,
        None,
    ]


async def test_a_deleted_user_resolves_to_a_placeholder_without_personal_data(
    auth: AuthHarness, unique_email: str, committed_engine: AsyncEngine
) -> None:
    """A deleted account's references (a payment's createdBy is `User!`) still resolve, so the
    lists holding them stay whole; what they show is a placeholder, never the person's data."""
    payload = await auth.register(unique_email, name="Soon Gone")
    user_id = payload["user"]["id"]
    async with committed_engine.begin() as conn:
        await conn.execute(
            text("UPDATE auth.users SET deleted_at = now() WHERE email = :e"), {"e": unique_email}
        )
    query = ENTITIES.replace("emailVerified }", "emailVerified deleted createdAt }")
    data = await auth.ok(
        query,
        {
            "r": [
                {"__typename": "User", "id": user_id},
                {"__typename": "User", "id": str(uuid.uuid4())},
            ]
        },
    )
    placeholder, unknown = data["_entities"]
    assert unknown is None  # an id that never was an account stays null
    assert placeholder == {
        "id": user_id,
        "email": "",
        "name": DELETED_USER_NAME,
        "role": "CUSTOMER",
        "emailVerified": False,
        "deleted": True,
        "createdAt": payload["user"]["createdAt"],
    }
    assert unique_email not in str(data)
    assert "Soon Gone" not in str(data)


async def test_an_active_user_is_not_deleted(auth: AuthHarness, unique_email: str) -> None:
    payload = await auth.register(unique_email)
    query = ENTITIES.replace("emailVerified }", "deleted }")
    data = await auth.ok(query, {"r": [{"__typename": "User", "id": payload["user"]["id"]}]})
    [user] = data["_entities"]
    assert (user["email"], user["deleted"]) == (unique_email, False)


async def test_entities_batch_into_one_statement(auth: AuthHarness, unique_email: str) -> None:
    ids = []
    for n in range(20):
        ids.append((await auth.register(f"{n}-{unique_email}"))["user"]["id"])
    one = {"r": [{"__typename": "User", "id": ids[0]}]}
    twenty = {"r": [{"__typename": "User", "id": user_id} for user_id in ids]}
    await auth.ok(ENTITIES, one)  # warm the connection pool
    with count_statements(_engine(auth), ignore=_not_mail_poll) as single:
        await auth.ok(ENTITIES, one)
    with count_statements(_engine(auth), ignore=_not_mail_poll) as batch:
        data = await auth.ok(ENTITIES, twenty)
    assert [e["id"] for e in data["_entities"]] == ids
    assert batch.count == single.count == 1
    assert sum("auth.users" in s for s in batch.statements) == 1


async def test_me_returns_the_caller(auth: AuthHarness, unique_email: str) -> None:
    payload = await auth.register(unique_email, name="Me Myself")
    data = await auth.ok(
        "{ me { id email name role emailVerified createdAt } }", token=payload["accessToken"]
    )
    assert data["me"]["id"] == payload["user"]["id"]
    assert data["me"]["name"] == "Me Myself"
    assert data["me"]["createdAt"].endswith("+00:00")


async def test_a_placeholder_tells_nothing_of_the_accounts_second_factor() -> None:
    """`mfaEnabled` (self or ADMIN) of a deleted account's placeholder is false without reading
    the account's TOTP state (the loaders are not even reached)."""
    now = datetime.now(UTC)
    row = UserRow(
        id=uuid.uuid4(), email="gone@example.com", name="Gone", role="VENDOR",
        email_verified=True, created_at=now, deleted_at=now,
    )  # fmt: skip
    unreachable = SimpleNamespace(context=SimpleNamespace(loaders=None))
    assert await resolve_mfa_enabled(User.placeholder(row), unreachable) is False  # type: ignore[arg-type]
