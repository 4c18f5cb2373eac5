"""`User.payments` over `_entities`: one batch of statements for any number of users, and the same
pages, cursors, errors and access rules as each user's own listing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared.pagination import encode_cursor
from shared.scopes import Role
from subgraphs.payments.enums import PaymentStatus, PaymentType
from subgraphs.payments.models import Payment
from tests.helpers import Subgraph, count_statements, error_codes
from tests.payments.factories import insert_payment

NODE = "id amount payer { id } payee { id }"
USER_PAYMENTS = f"""query U($r: [_Any!]!, $first: Int, $after: String) {{
  _entities(representations: $r) {{ ... on User {{ id
    payments(first: $first, after: $after) {{ totalCount
      edges {{ cursor node {{ {NODE} }} }} pageInfo {{ hasNextPage endCursor }} }} }} }} }}"""
PAGE_ONLY = """query U($r: [_Any!]!) { _entities(representations: $r) { ... on User {
  payments(first: 5) { edges { node { id } } pageInfo { hasNextPage } } } } }"""
TWO_PAGES = """query U($r: [_Any!]!) { _entities(representations: $r) { ... on User {
  small: payments(first: 2) { edges { node { id } } }
  large: payments(first: 5) { edges { node { id } } } } } }"""
OWN = f"""query L($first: Int, $after: String) {{ payments(first: $first, after: $after) {{
  totalCount edges {{ cursor node {{ {NODE} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"""


def reps(users: list[uuid.UUID]) -> dict[str, Any]:
    return {"r": [{"__typename": "User", "id": str(u)} for u in users]}


async def seed(session: AsyncSession, count: int) -> tuple[list[uuid.UUID], list[Payment]]:
    """`count` users, each paying, being asked to pay and being paid; neighbours share a
    payment (one creates, the next is its payee); the last user has no payments at all."""
    users = [uuid.uuid4() for _ in range(count)]
    base = datetime(1990, 1, 1, tzinfo=UTC)
    rows: list[Payment] = []
    for i, user in enumerate(users[:-1]):
        at = base + timedelta(days=i)
        for j in range(3):  # j == 2 ties with j == 1: the id orders them
            created = at + timedelta(minutes=min(j, 1))
            rows.append(
                await insert_payment(session, created_by=user, created_at=created, commit=False)
            )
        for j in range(2):
            rows.append(
                await insert_payment(
                    session,
                    created_by=uuid.uuid4(),
                    payer_id=user,
                    type=PaymentType.INITIATE,
                    status=PaymentStatus.INITIATED,
                    amount_minor=2_500 + j,
                    created_at=at + timedelta(minutes=10 + j),
                    commit=False,
                )
            )
        if i + 1 < count - 1:
            rows.append(
                await insert_payment(
                    session,
                    created_by=user,
                    payee_id=users[i + 1],
                    created_at=at + timedelta(minutes=20),
                    commit=False,
                )
            )
    await session.commit()
    return users, rows


def expected(rows: list[Payment], user: uuid.UUID) -> list[Payment]:
    mine = [r for r in rows if user in (r.payer_id, r.payee_id, r.created_by)]
    return sorted(mine, key=lambda r: (r.created_at, r.id), reverse=True)


def node(row: Payment) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "amount": f"{row.amount_minor / 100:.2f}",
        "payer": {"id": str(row.payer_id)} if row.payer_id else None,
        "payee": {"id": str(row.payee_id)} if row.payee_id else None,
    }


def page_of(rows: list[Payment], first: int) -> dict[str, Any]:
    shown = rows[:first]
    edges = [{"cursor": encode_cursor(r.created_at, r.id), "node": node(r)} for r in shown]
    return {
        "edges": edges,
        "pageInfo": {
            "hasNextPage": len(rows) > first,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


async def test_statements_do_not_grow_with_the_users(
    payments: Subgraph, committed: AsyncSession
) -> None:
    admin = payments.caller(Role.ADMIN)
    users, rows = await seed(committed, 50)

    counts = {}
    for batch in (users[:1], users):
        with count_statements(payments.engine) as counter:
            data = await payments.ok(USER_PAYMENTS, {**reps(batch), "first": 5}, as_=admin)
        counts[len(batch)] = counter.count
        for user, entity in zip(batch, data["_entities"], strict=True):
            mine = expected(rows, user)
            assert entity["id"] == str(user)
            assert entity["payments"] == {"totalCount": len(mine), **page_of(mine, 5)}
    assert counts[1] == counts[50] == 2  # the pages, the grouped totalCount

    assert data["_entities"][-1]["payments"]["totalCount"] == 0
    assert any(e["payments"]["pageInfo"]["hasNextPage"] for e in data["_entities"])

    with count_statements(payments.engine) as counter:
        lazy = await payments.ok(PAGE_ONLY, reps(users), as_=admin)
    assert counter.count == 1  # totalCount not selected: not counted
    assert len(lazy["_entities"]) == 50

    with count_statements(payments.engine) as counter:
        both = await payments.ok(TWO_PAGES, reps(users), as_=admin)
    assert counter.count == 2  # one statement per distinct (first, after)
    for user, entity in zip(users, both["_entities"], strict=True):
        ids = [str(r.id) for r in expected(rows, user)]
        assert [e["node"]["id"] for e in entity["small"]["edges"]] == ids[:2]
        assert [e["node"]["id"] for e in entity["large"]["edges"]] == ids[:5]


async def test_pages_match_each_users_own_listing(
    payments: Subgraph, committed: AsyncSession
) -> None:
    admin = payments.caller(Role.ADMIN)
    users, rows = await seed(committed, 6)
    first = await payments.ok(USER_PAYMENTS, {**reps(users), "first": 5}, as_=admin)

    for user, entity in zip(users, first["_entities"], strict=True):
        me = payments.caller(Role.CUSTOMER, user_id=user)
        own = await payments.ok(OWN, {"first": 5}, as_=me)
        assert entity["payments"] == own["payments"]
        cursor = entity["payments"]["pageInfo"]["endCursor"]
        if cursor is None:
            continue
        variables = {"first": 5, "after": cursor}
        second = await payments.ok(USER_PAYMENTS, {**reps([user]), **variables}, as_=admin)
        own_second = await payments.ok(OWN, variables, as_=me)
        assert second["_entities"][0]["payments"] == own_second["payments"]
        mine = expected(rows, user)
        assert second["_entities"][0]["payments"] == {
            "totalCount": len(mine),
            **page_of(mine[5:], 5),
        }

    # one cursor for the whole batch: every user's rows after that position
    cursor = first["_entities"][2]["payments"]["pageInfo"]["endCursor"]
    shared = await payments.ok(
        USER_PAYMENTS, {**reps(users), "first": 3, "after": cursor}, as_=admin
    )
    position = expected(rows, users[2])[4]
    for user, entity in zip(users, shared["_entities"], strict=True):
        mine = expected(rows, user)
        rest = [r for r in mine if (r.created_at, r.id) < (position.created_at, position.id)]
        assert entity["payments"] == {"totalCount": len(mine), **page_of(rest, 3)}


async def test_errors_and_access_are_per_user(payments: Subgraph, committed: AsyncSession) -> None:
    users, rows = await seed(committed, 3)
    admin, me = payments.caller(Role.ADMIN), payments.caller(Role.CUSTOMER, user_id=users[0])

    for bad in (0, 101):
        result = await payments.gql(USER_PAYMENTS, {**reps(users), "first": bad}, as_=admin)
        assert error_codes(result) == ["BAD_USER_INPUT"] * 3
        assert {e["extensions"]["field"] for e in result["errors"]} == {"first"}
    result = await payments.gql(USER_PAYMENTS, {**reps(users), "after": "nope"}, as_=admin)
    assert error_codes(result) == ["BAD_USER_INPUT"] * 3
    assert {e["extensions"]["field"] for e in result["errors"]} == {"after"}

    mixed = await payments.gql(USER_PAYMENTS, {**reps(users[:2]), "first": 5}, as_=me)
    assert error_codes(mixed) == ["FORBIDDEN"]
    own, other = mixed["data"]["_entities"]
    assert other is None
    assert own["payments"]["totalCount"] == len(expected(rows, users[0]))
