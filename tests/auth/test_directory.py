"""The user directory an ADMIN reads, served by auth (which owns the accounts): `users` (filters,
keyset pages) and the ADMIN-only `User` fields `lastLoginAt` and `lockedUntil`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from shared.scopes import Role
from subgraphs.auth.directory import escape_like, user_query
from subgraphs.auth.schema import create_schema
from tests.auth.users import add_users, user
from tests.helpers import Subgraph, count_statements, error_codes
from tests.sdl import without_descriptions

USERS = """query Users($filter: UserFilter, $first: Int, $after: String) {
  users(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id lastLoginAt lockedUntil } } } }"""
ENTITIES = """query E($r: [_Any!]!) {
  _entities(representations: $r) { ... on User { id lastLoginAt lockedUntil } } }"""


def tag() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


def ids(data: dict[str, object]) -> list[str]:
    return [e["node"]["id"] for e in data["users"]["edges"]]  # type: ignore[index]


def not_background(statement: str) -> bool:
    """The app's mail sender and outbox relay share the engine and may poll meanwhile: not this
    request's SQL."""
    return any(
        t in statement for t in ("outbound_emails", "outbox_events", "password_reset_requests")
    )


def test_every_field_is_admin_only_in_the_sdl() -> None:
    sdl = without_descriptions(create_schema(None).as_str())
    admin = '@requiresScopes(scopes: [["admin"]])'
    assert (
        "users(filter: UserFilter = null, first: Int = 20, after: String = null): "
        f"UserConnection! {admin}" in sdl
    )
    assert f"lastLoginAt: DateTime {admin}" in sdl
    assert f"lockedUntil: DateTime {admin}" in sdl
    assert 'type User @key(fields: "id")' in sdl


def test_like_escaping_and_search_normalization() -> None:
    assert escape_like(r"50%_off\now") == r"50\%\_off\\now"
    assert user_query(role=None, search="   ").search is None
    assert user_query(role="ADMIN", search=" Ann ").search == "Ann"


async def test_only_admin_may_list_users(auth_subgraph: Subgraph) -> None:
    assert error_codes(await auth_subgraph.gql(USERS)) == ["UNAUTHENTICATED"]
    for role in (Role.CUSTOMER, Role.VENDOR):
        result = await auth_subgraph.gql(USERS, as_=auth_subgraph.caller(role))
        assert error_codes(result) == ["FORBIDDEN"]
        assert result["data"] is None
    unsigned = await auth_subgraph.gql(USERS, as_=auth_subgraph.caller(Role.ADMIN), signed=False)
    assert error_codes(unsigned) == ["FORBIDDEN"]
    # ADMIN by role but without the admin scope (a token minted before a role change, say).
    scopeless = auth_subgraph.caller(Role.ADMIN, scopes=frozenset({"payments:read"}))
    assert error_codes(await auth_subgraph.gql(USERS, as_=scopeless)) == ["FORBIDDEN"]


async def test_search_role_and_deleted_filters(
    auth_subgraph: Subgraph, committed_engine: AsyncEngine
) -> None:
    t = tag()
    now = datetime.now(UTC)
    ann = user(t, 1, name=f"Ann {t} Smith", created_at=now - timedelta(minutes=5))
    bob = user(t, 2, role="VENDOR", email=f"bob.{t}@example.com", created_at=now - timedelta(4))
    gone = user(t, 3, deleted_at=now, created_at=now - timedelta(minutes=3))
    percent = user(t, 4, name=f"100% {t}", created_at=now - timedelta(minutes=2))
    underscore = user(t, 5, name=f"a_b {t}", created_at=now - timedelta(minutes=1))
    await add_users(committed_engine, ann, bob, gone, percent, underscore)
    root = auth_subgraph.caller(Role.ADMIN)

    async def found(filter: dict[str, object]) -> list[str]:
        data = await auth_subgraph.ok(USERS, {"filter": filter}, as_=root)
        assert data["users"]["totalCount"] == len(data["users"]["edges"])
        return ids(data)

    everyone = [str(u.id) for u in (underscore, percent, ann, bob)]
    assert await found({"search": t.upper()}) == everyone
    assert await found({"search": f"  {t}  "}) == everyone
    assert await found({"search": f"BOB.{t.upper()}"}) == [str(bob.id)]  # e-mail, any case
    assert await found({"search": f"aNN {t}"}) == [str(ann.id)]  # name, any case
    assert await found({"search": t, "role": "VENDOR"}) == [str(bob.id)]
    assert await found({"search": t, "includeDeleted": True}) == [
        str(underscore.id),
        str(percent.id),
        str(gone.id),
        str(ann.id),
        str(bob.id),
    ]
    # LIKE wildcards are plain characters in a search.
    assert await found({"search": f"% {t}"}) == [str(percent.id)]
    assert await found({"search": f"a_b {t}"}) == [str(underscore.id)]
    assert await found({"search": f"a%b {t}"}) == []

    too_long = await auth_subgraph.gql(USERS, {"filter": {"search": "x" * 101}}, as_=root)
    assert error_codes(too_long) == ["BAD_USER_INPUT"]
    assert too_long["errors"][0]["extensions"]["field"] == "search"
    bad_role = await auth_subgraph.gql(USERS, {"filter": {"role": "ROOT"}}, as_=root)
    assert error_codes(bad_role) == ["BAD_USER_INPUT"]


async def test_pagination(auth_subgraph: Subgraph, committed_engine: AsyncEngine) -> None:
    t = tag()
    stamp = datetime.now(UTC) - timedelta(days=1)
    made = [user(t, i, created_at=stamp + timedelta(seconds=i // 2)) for i in range(7)]
    await add_users(committed_engine, *made)
    root = auth_subgraph.caller(Role.ADMIN)
    seen: list[str] = []
    after = None
    while True:
        data = await auth_subgraph.ok(
            USERS, {"filter": {"search": t}, "first": 3, "after": after}, as_=root
        )
        assert data["users"]["totalCount"] == 7
        seen += ids(data)
        if not data["users"]["pageInfo"]["hasNextPage"]:
            break
        after = data["users"]["pageInfo"]["endCursor"]
    assert sorted(seen) == sorted(str(u.id) for u in made)
    assert len(seen) == 7
    newest_first = sorted(made, key=lambda u: (u.created_at, u.id), reverse=True)
    assert seen == [str(u.id) for u in newest_first]

    for variables, field in [
        ({"first": 0}, "first"),
        ({"first": 101}, "first"),
        ({"after": "garbage"}, "after"),
    ]:
        result = await auth_subgraph.gql(USERS, variables, as_=root)
        assert error_codes(result) == ["BAD_USER_INPUT"]
        assert result["errors"][0]["extensions"]["field"] == field


async def test_admin_only_user_fields(
    auth_subgraph: Subgraph, committed_engine: AsyncEngine
) -> None:
    t = tag()
    login = datetime(2030, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    locked = datetime(2030, 1, 2, 4, 0, tzinfo=UTC)
    someone = user(t, 1, last_login_at=login, locked_until=locked)
    fresh = user(t, 2)
    await add_users(committed_engine, someone, fresh)
    root = auth_subgraph.caller(Role.ADMIN)

    listed = await auth_subgraph.ok(USERS, {"filter": {"search": t}}, as_=root)
    nodes = {e["node"]["id"]: e["node"] for e in listed["users"]["edges"]}
    assert nodes[str(someone.id)] == {
        "id": str(someone.id),
        "lastLoginAt": "2030-01-02T03:04:05.123456+00:00",
        "lockedUntil": "2030-01-02T04:00:00+00:00",
    }
    assert nodes[str(fresh.id)]["lastLoginAt"] is None

    reps = {
        "r": [
            {"__typename": "User", "id": str(someone.id)},
            {"__typename": "User", "id": str(uuid.uuid4())},
            {"__typename": "User", "id": "not-a-uuid"},
        ]
    }
    data = await auth_subgraph.ok(ENTITIES, reps, as_=root)
    assert data["_entities"][0]["lastLoginAt"] == "2030-01-02T03:04:05.123456+00:00"
    # An unknown id or one that is not a UUID: no account, so no login or lock stamps (auth
    # answers no entity at all, where admin used to answer a bare reference with null fields).
    assert data["_entities"][1] is None
    assert data["_entities"][2] is None

    as_customer = await auth_subgraph.gql(ENTITIES, reps, as_=auth_subgraph.caller(Role.CUSTOMER))
    assert set(error_codes(as_customer)) == {"FORBIDDEN"}
    assert as_customer["data"]["_entities"][0] == {
        "id": str(someone.id),
        "lastLoginAt": None,
        "lockedUntil": None,
    }
    id_only = await auth_subgraph.ok(
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id } } }",
        {"r": reps["r"][:1]},
        as_=auth_subgraph.caller(Role.CUSTOMER),
    )
    assert id_only["_entities"] == [{"id": str(someone.id)}]


async def test_listing_cost_does_not_grow_with_the_page(
    auth_subgraph: Subgraph, committed_engine: AsyncEngine
) -> None:
    t = tag()
    await add_users(
        committed_engine, *[user(t, i, last_login_at=datetime.now(UTC)) for i in range(50)]
    )
    root = auth_subgraph.caller(Role.ADMIN)
    counts = {}
    for first in (1, 50):
        with count_statements(auth_subgraph.engine, ignore=not_background) as counter:
            data = await auth_subgraph.ok(
                USERS, {"filter": {"search": t}, "first": first}, as_=root
            )
        assert len(data["users"]["edges"]) == first
        assert all(e["node"]["lastLoginAt"] for e in data["users"]["edges"])
        counts[first] = counter.count
    assert counts[1] == counts[50] == 2  # the page and totalCount; entity fields come primed
