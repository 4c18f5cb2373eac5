"""User administration over GraphQL, served by auth (which owns the accounts): createUser,
updateUser, setUserRole, deleteUser, with auth's rules (policy, normalisation, revocation) and the
`admin:user:*` events written to auth's outbox in the same transaction."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.context import authenticate, revoked_user_key
from shared.errors import Unauthenticated
from shared.scopes import Role, scopes_for
from shared.tokens import TokenVerifier
from subgraphs.auth.runtime import AuthRuntime
from subgraphs.auth.schema import create_schema
from subgraphs.auth.user_admin import DENYLIST_TTL_SECONDS
from tests.auth.accounts_support import PASSWORD, admin_events, log_in, refresh
from tests.helpers import Caller, Subgraph, error_codes
from tests.sdl import without_descriptions

CREATE = """mutation C($input: CreateUserInput!) { createUser(input: $input) { id } }"""
UPDATE = """mutation U($id: ID!, $input: UpdateUserInput!) {
  updateUser(id: $id, input: $input) { id } }"""
SET_ROLE = "mutation R($id: ID!, $role: Role!) { setUserRole(id: $id, role: $role) { id } }"
DELETE = "mutation D($id: ID!) { deleteUser(id: $id) }"
ADMIN_SCOPE = '@requiresScopes(scopes: [["admin"]])'


def fresh_email(prefix: str = "managed") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@Example.COM"


async def create(auth_subgraph: Subgraph, root: Caller, **fields: Any) -> tuple[str, str]:
    email = fields.pop("email", fresh_email())
    data = await auth_subgraph.ok(
        CREATE,
        {"input": {"email": email, "name": "Managed User", "password": PASSWORD, **fields}},
        as_=root,
    )
    return data["createUser"]["id"], email.strip().lower()


async def user_row(engine: AsyncEngine, user_id: str) -> dict[str, Any]:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT * FROM auth.users WHERE id = :id"), {"id": uuid.UUID(user_id)}
            )
        ).one()
    return dict(row._mapping)


def test_mutations_are_admin_only_in_the_sdl() -> None:
    sdl = without_descriptions(create_schema(None).as_str())
    for field in (
        "createUser(input: CreateUserInput!): User!",
        "updateUser(id: ID!, input: UpdateUserInput!): User!",
        "setUserRole(id: ID!, role: Role!): User!",
        "deleteUser(id: ID!): Boolean!",
    ):
        assert f"{field} {ADMIN_SCOPE}" in sdl


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (CREATE, {"input": {"email": "x@example.com", "name": "X", "password": PASSWORD}}),
        (UPDATE, {"id": str(uuid.uuid4()), "input": {"name": "X"}}),
        (SET_ROLE, {"id": str(uuid.uuid4()), "role": "VENDOR"}),
        (DELETE, {"id": str(uuid.uuid4())}),
    ],
)
async def test_only_admin_may_manage_users(
    auth_subgraph: Subgraph, query: str, variables: dict[str, Any]
) -> None:
    assert error_codes(await auth_subgraph.gql(query, variables)) == ["UNAUTHENTICATED"]
    for role in (Role.CUSTOMER, Role.VENDOR):
        assert error_codes(
            await auth_subgraph.gql(query, variables, as_=auth_subgraph.caller(role))
        ) == ["FORBIDDEN"]
    unsigned = await auth_subgraph.gql(
        query, variables, as_=auth_subgraph.caller(Role.ADMIN), signed=False
    )
    assert error_codes(unsigned) == ["FORBIDDEN"]


async def test_create_user_runs_auths_rules_and_writes_the_event(
    auth_subgraph: Subgraph, committed_engine: AsyncEngine, auth_runtime: AuthRuntime, redis: Redis
) -> None:
    root = auth_subgraph.caller(Role.ADMIN)
    email = fresh_email()
    user_id, stored_email = await create(auth_subgraph, root, email=f"  {email} ", role="VENDOR")
    row = await user_row(committed_engine, user_id)
    assert (row["email"], row["role"], row["email_verified"]) == (stored_email, "VENDOR", True)
    assert row["password_hash"].startswith("$argon2id$")
    assert PASSWORD not in row["password_hash"]

    session = await log_in(committed_engine, auth_runtime, redis, email.upper())
    assert str(session.user.id) == user_id

    [event] = await admin_events(committed_engine, user_id)
    assert event["type"] == "admin:user:created"
    assert event["actor_id"] == root.id
    assert event["data"] == {
        "userId": user_id,
        "email": stored_email,
        "name": "Managed User",
        "role": "VENDOR",
        "emailVerified": True,
    }

    again = await auth_subgraph.gql(
        CREATE,
        {"input": {"email": email.upper(), "name": "Twin", "password": PASSWORD}},
        as_=root,
    )
    assert error_codes(again) == ["CONFLICT"]
    assert len(await admin_events(committed_engine, user_id)) == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"password": "short1A"}, "password"),
        ({"password": "aaaaaaaaaaaaaaaa"}, "password"),
        ({"email": "not-an-address"}, "email"),
        ({"name": "   "}, "name"),
    ],
)
async def test_create_user_validation(
    auth_subgraph: Subgraph, fields: dict[str, str], field: str
) -> None:
    variables = {"email": fresh_email(), "name": "N", "password": PASSWORD, **fields}
    result = await auth_subgraph.gql(
        CREATE, {"input": variables}, as_=auth_subgraph.caller(Role.ADMIN)
    )
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert result["errors"][0]["extensions"]["field"] == field


async def test_update_user(auth_subgraph: Subgraph, committed_engine: AsyncEngine) -> None:
    root = auth_subgraph.caller(Role.ADMIN)
    user_id, _ = await create(auth_subgraph, root)
    _, taken = await create(auth_subgraph, root)

    new_email = fresh_email("renamed")
    await auth_subgraph.ok(
        UPDATE, {"id": user_id, "input": {"name": "  New   Name ", "email": new_email}}, as_=root
    )
    row = await user_row(committed_engine, user_id)
    assert (row["name"], row["email"], row["email_verified"]) == (
        "New Name",
        new_email.lower(),
        False,  # a new address is unverified unless said otherwise
    )
    await auth_subgraph.ok(UPDATE, {"id": user_id, "input": {"emailVerified": True}}, as_=root)
    assert (await user_row(committed_engine, user_id))["email_verified"] is True
    # Nothing changes: no event.
    await auth_subgraph.ok(UPDATE, {"id": user_id, "input": {"name": "New Name"}}, as_=root)

    events = await admin_events(committed_engine, user_id)
    assert [e["type"] for e in events] == [
        "admin:user:created",
        "admin:user:updated",
        "admin:user:updated",
    ]
    assert events[1]["data"]["changes"] == {
        "name": {"from": "Managed User", "to": "New Name"},
        "email": {"from": events[0]["data"]["email"], "to": new_email.lower()},
        "emailVerified": {"from": True, "to": False},
    }

    conflict = await auth_subgraph.gql(UPDATE, {"id": user_id, "input": {"email": taken}}, as_=root)
    assert error_codes(conflict) == ["CONFLICT"]
    bad = await auth_subgraph.gql(UPDATE, {"id": user_id, "input": {"email": "nope"}}, as_=root)
    assert error_codes(bad) == ["BAD_USER_INPUT"]
    assert bad["errors"][0]["extensions"]["field"] == "email"
    for unknown in (str(uuid.uuid4()), "not-a-uuid"):
        missing = await auth_subgraph.gql(UPDATE, {"id": unknown, "input": {"name": "X"}}, as_=root)
        assert error_codes(missing) == ["NOT_FOUND"]


async def test_set_user_role_reaches_the_next_token(
    auth_subgraph: Subgraph,
    committed_engine: AsyncEngine,
    auth_runtime: AuthRuntime,
    auth_verifier: TokenVerifier,
    redis: Redis,
) -> None:
    root = auth_subgraph.caller(Role.ADMIN)
    user_id, email = await create(auth_subgraph, root)
    before = await log_in(committed_engine, auth_runtime, redis, email)
    principal, error = await authenticate(
        f"Bearer {before.access_token}", verifier=auth_verifier, redis=redis
    )
    assert error is None
    assert principal is not None
    assert principal.role is Role.CUSTOMER

    await auth_subgraph.ok(SET_ROLE, {"id": user_id, "role": "VENDOR"}, as_=root)
    assert (await user_row(committed_engine, user_id))["role"] == "VENDOR"
    # The old session is over: its access token is refused and its refresh token revoked.
    _, error = await authenticate(
        f"Bearer {before.access_token}", verifier=auth_verifier, redis=redis
    )
    assert isinstance(error, Unauthenticated)
    with pytest.raises(Unauthenticated):
        await refresh(committed_engine, auth_runtime, redis, before.refresh_token)

    after = await log_in(committed_engine, auth_runtime, redis, email)
    principal, error = await authenticate(
        f"Bearer {after.access_token}", verifier=auth_verifier, redis=redis
    )
    assert error is None
    assert principal is not None
    assert principal.role is Role.VENDOR
    assert principal.scopes == scopes_for(Role.VENDOR)

    events = await admin_events(committed_engine, user_id)
    assert events[-1]["type"] == "admin:user:updated"
    assert events[-1]["data"]["changes"] == {"role": {"from": "CUSTOMER", "to": "VENDOR"}}
    assert events[-1]["data"]["revokedSessions"] == 1

    # The same role again changes nothing; one's own role cannot be changed.
    await auth_subgraph.ok(SET_ROLE, {"id": user_id, "role": "VENDOR"}, as_=root)
    assert len(await admin_events(committed_engine, user_id)) == len(events)
    own = await auth_subgraph.gql(SET_ROLE, {"id": str(root.id), "role": "CUSTOMER"}, as_=root)
    assert error_codes(own) == ["BAD_USER_INPUT"]
    assert own["errors"][0]["extensions"]["field"] == "id"
    missing = await auth_subgraph.gql(
        SET_ROLE, {"id": str(uuid.uuid4()), "role": "ADMIN"}, as_=root
    )
    assert error_codes(missing) == ["NOT_FOUND"]


async def test_delete_user_ends_every_way_in(
    auth_subgraph: Subgraph,
    committed_engine: AsyncEngine,
    auth_runtime: AuthRuntime,
    auth_verifier: TokenVerifier,
    redis: Redis,
) -> None:
    root = auth_subgraph.caller(Role.ADMIN)
    user_id, email = await create(auth_subgraph, root)
    session = await log_in(committed_engine, auth_runtime, redis, email)
    _, error = await authenticate(
        f"Bearer {session.access_token}", verifier=auth_verifier, redis=redis
    )
    assert error is None

    assert (await auth_subgraph.ok(DELETE, {"id": user_id}, as_=root)) == {"deleteUser": True}
    assert (await user_row(committed_engine, user_id))["deleted_at"] is not None

    # The outstanding access token is refused everywhere (the user-wide denylist entry)...
    stamp = await redis.get(revoked_user_key(user_id))
    assert stamp is not None
    assert abs(int(stamp) - time.time()) < 5
    assert await redis.ttl(revoked_user_key(user_id)) > 900  # outlives any access token
    assert auth_runtime.settings.access_token_ttl_seconds <= DENYLIST_TTL_SECONDS
    _, error = await authenticate(
        f"Bearer {session.access_token}", verifier=auth_verifier, redis=redis
    )
    assert isinstance(error, Unauthenticated)
    # ...and so is a token with the same keys issued before the deletion (no session entry).
    token, _ = auth_runtime.keys.issue(
        user_id=user_id,
        email=email,
        role="CUSTOMER",
        scopes=scopes_for(Role.CUSTOMER),
        issuer=auth_runtime.settings.jwt_issuer,
        audience=auth_runtime.settings.jwt_audience,
        ttl_seconds=900,
        session_id=uuid.uuid4().hex,
        now=int(stamp) - 1,  # issued before the deletion, whatever second the test reaches now
    )
    _, error = await authenticate(f"Bearer {token}", verifier=auth_verifier, redis=redis)
    assert isinstance(error, Unauthenticated)
    # No refresh, no login.
    with pytest.raises(Unauthenticated):
        await refresh(committed_engine, auth_runtime, redis, session.refresh_token)
    with pytest.raises(Unauthenticated):
        await log_in(committed_engine, auth_runtime, redis, email)

    events = await admin_events(committed_engine, user_id)
    assert events[-1]["type"] == "admin:user:deleted"
    assert events[-1]["actor_id"] == root.id
    assert events[-1]["data"]["revokedSessions"] == 1

    listed = await auth_subgraph.ok(
        "query($s: String) { users(filter: {search: $s}) { totalCount } }", {"s": email}, as_=root
    )
    assert listed["users"]["totalCount"] == 0
    # Gone for the other mutations; the address stays reserved.
    assert error_codes(await auth_subgraph.gql(DELETE, {"id": user_id}, as_=root)) == ["NOT_FOUND"]
    assert error_codes(
        await auth_subgraph.gql(UPDATE, {"id": user_id, "input": {"name": "Z"}}, as_=root)
    ) == ["NOT_FOUND"]
    reuse = await auth_subgraph.gql(
        CREATE, {"input": {"email": email, "name": "Again", "password": PASSWORD}}, as_=root
    )
    assert error_codes(reuse) == ["CONFLICT"]


async def test_an_admin_cannot_delete_themself(
    auth_subgraph: Subgraph, committed_engine: AsyncEngine
) -> None:
    root = auth_subgraph.caller(Role.ADMIN)
    user_id, _ = await create(auth_subgraph, root, role="ADMIN")
    me = auth_subgraph.caller(Role.ADMIN, user_id=uuid.UUID(user_id))
    result = await auth_subgraph.gql(DELETE, {"id": user_id}, as_=me)
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert result["errors"][0]["extensions"]["field"] == "id"
    assert (await user_row(committed_engine, user_id))["deleted_at"] is None
    assert error_codes(await auth_subgraph.gql(DELETE, {"id": "nope"}, as_=root)) == ["NOT_FOUND"]
