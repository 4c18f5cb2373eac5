"""auditLogs (filters, keyset pages, actor references) and analytics (exact sums)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared.scopes import Role
from subgraphs.payments.enums import PaymentStatus
from tests.helpers import Subgraph, error_codes
from tests.payments.factories import insert_payment

AUDIT = """query A($filter: AuditLogFilter, $first: Int, $after: String) {
  auditLogs(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id action actor { id } resourceType resourceId details ipAddress
      createdAt } } } }"""
ANALYTICS = """query N($from: DateTime!, $to: DateTime!) { analytics(from: $from, to: $to) {
  from to usersByRole { role count } paymentsByStatus { status count }
  volume { day currency payments amount refunded net } } }"""


async def add_entries(engine: AsyncEngine, *entries: dict[str, Any]) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO admin.audit_logs (id, action, actor_id, resource_type, resource_id,"
                " details, ip_address, created_at) VALUES (:id, :action, :actor_id,"
                " :resource_type, :resource_id, CAST(:details AS jsonb), :ip, :created_at)"
            ),
            [
                {
                    "id": uuid.uuid4(),
                    "resource_type": "user",
                    "resource_id": None,
                    "details": '{"n": 1}',
                    "ip": "10.0.0.1",
                    **entry,
                }
                for entry in entries
            ],
        )


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (AUDIT, {}),
        (ANALYTICS, {"from": "2030-01-01T00:00:00Z", "to": "2030-01-02T00:00:00Z"}),
    ],
)
async def test_reports_are_admin_only(
    admin: Subgraph, query: str, variables: dict[str, Any]
) -> None:
    assert error_codes(await admin.gql(query, variables)) == ["UNAUTHENTICATED"]
    for role in (Role.CUSTOMER, Role.VENDOR):
        result = await admin.gql(query, variables, as_=admin.caller(role))
        assert error_codes(result) == ["FORBIDDEN"]
    unsigned = await admin.gql(query, variables, as_=admin.caller(Role.ADMIN), signed=False)
    assert error_codes(unsigned) == ["FORBIDDEN"]


async def test_audit_log_filters_and_pages(admin: Subgraph, committed_engine: AsyncEngine) -> None:
    someone, other = uuid.uuid4(), uuid.uuid4()
    base = datetime(2031, 3, 1, tzinfo=UTC) + timedelta(minutes=random.randrange(10**6))
    mine = [
        {
            "action": "auth:user:logged_in" if i % 2 else "auth:user:logged_out",
            "actor_id": someone,
            "created_at": base + timedelta(seconds=i // 2),  # pairs share a timestamp
        }
        for i in range(7)
    ]
    about_me = {
        "action": "admin:user:updated",
        "actor_id": other,
        "resource_id": str(someone),
        "created_at": base + timedelta(seconds=10),
    }
    unrelated = {"action": "auth:user:logged_in", "actor_id": other, "created_at": base}
    system = {"action": "payments:payment:failed", "actor_id": None, "created_at": base}
    await add_entries(committed_engine, *mine, about_me, unrelated, system)
    root = admin.caller(Role.ADMIN)

    seen: list[dict[str, Any]] = []
    after = None
    while True:
        data = await admin.ok(
            AUDIT, {"filter": {"userId": str(someone)}, "first": 3, "after": after}, as_=root
        )
        assert data["auditLogs"]["totalCount"] == 8
        seen += [e["node"] for e in data["auditLogs"]["edges"]]
        if not data["auditLogs"]["pageInfo"]["hasNextPage"]:
            break
        after = data["auditLogs"]["pageInfo"]["endCursor"]
    assert len(seen) == 8
    assert len({n["id"] for n in seen}) == 8
    keys = [(n["createdAt"], n["id"]) for n in seen]
    assert keys == sorted(keys, reverse=True)  # newest first, ties by id
    assert seen[0]["action"] == "admin:user:updated"
    assert seen[0]["actor"] == {"id": str(other)}
    assert seen[0]["resourceId"] == str(someone)
    assert seen[1]["details"] == {"n": 1}
    assert seen[1]["ipAddress"] == "10.0.0.1"

    async def actions(filter: dict[str, Any]) -> list[str]:
        data = await admin.ok(AUDIT, {"filter": filter}, as_=root)
        assert data["auditLogs"]["totalCount"] == len(data["auditLogs"]["edges"])
        return [e["node"]["action"] for e in data["auditLogs"]["edges"]]

    assert (
        await actions({"userId": str(someone), "action": "auth:user:logged_in"})
        == ["auth:user:logged_in"] * 3
    )
    window = {
        "userId": str(someone),
        "from": (base + timedelta(seconds=1)).isoformat(),
        "to": (base + timedelta(seconds=3)).isoformat(),
    }
    assert len(await actions(window)) == 4  # seconds 1 and 2; `to` is exclusive
    system_rows = await admin.ok(
        AUDIT,
        {
            "filter": {
                "action": "payments:payment:failed",
                "from": base.isoformat(),
                "to": (base + timedelta(microseconds=1)).isoformat(),
            }
        },
        as_=root,
    )
    nodes = [e["node"] for e in system_rows["auditLogs"]["edges"]]
    assert any(n["actor"] is None for n in nodes)

    for filter, field in [
        ({"userId": "nobody"}, "userId"),
        ({"action": "x" * 65}, "action"),
        ({"from": "2031-01-02T00:00:00Z", "to": "2031-01-01T00:00:00Z"}, "from"),
    ]:
        result = await admin.gql(AUDIT, {"filter": filter}, as_=root)
        assert error_codes(result) == ["BAD_USER_INPUT"]
        assert result["errors"][0]["extensions"]["field"] == field
    too_many = await admin.gql(AUDIT, {"first": 101}, as_=root)
    assert too_many["errors"][0]["extensions"]["field"] == "first"


async def test_analytics_sums_are_exact(
    admin: Subgraph, committed_engine: AsyncEngine, committed: AsyncSession
) -> None:
    # A day no other test writes payments on.
    day = datetime(2032, 1, 1, tzinfo=UTC) + timedelta(days=random.randrange(300))
    next_day = day + timedelta(days=1)
    late = day + timedelta(hours=23, minutes=59)
    creator = uuid.uuid4()
    rows: list[tuple[PaymentStatus, int, str, datetime, int]] = [
        (PaymentStatus.COMPLETED, 10, "INR", day, 0),  # 0.10
        (PaymentStatus.COMPLETED, 20, "INR", late, 0),  # 0.20: 0.1 + 0.2 must be 0.30
        (PaymentStatus.PARTIALLY_REFUNDED, 1_000_000_001, "INR", day, 1),
        (PaymentStatus.REFUNDED, 1234, "KWD", day, 1234),  # 1.234, three decimals
        (PaymentStatus.COMPLETED, 5, "JPY", next_day, 0),  # 5, no decimals
        (PaymentStatus.PENDING, 999, "INR", day, 0),  # counted by status, not volume
        (PaymentStatus.FAILED, 999, "INR", day, 0),
    ]
    for status, minor, currency, created_at, refunded in rows:
        await insert_payment(
            committed,
            created_by=creator,
            status=status,
            amount_minor=minor,
            currency=currency,
            created_at=created_at,
            amount_refunded_minor=refunded,
            commit=False,
        )
    await committed.commit()
    async with committed_engine.connect() as conn:
        live = dict(
            (
                await conn.execute(
                    text(
                        "SELECT role, count(*) FROM auth.user_directory"
                        " WHERE deleted_at IS NULL GROUP BY role"
                    )
                )
            ).all()
        )

    root = admin.caller(Role.ADMIN)
    variables = {"from": day.isoformat(), "to": (day + timedelta(days=2)).isoformat()}
    report = (await admin.ok(ANALYTICS, variables, as_=root))["analytics"]
    assert report["from"] == day.isoformat()
    assert {r["role"]: r["count"] for r in report["usersByRole"]} == {
        role.value: live.get(role.value, 0) for role in Role
    }
    assert {s["status"]: s["count"] for s in report["paymentsByStatus"]} == {
        "COMPLETED": 3,
        "PARTIALLY_REFUNDED": 1,
        "REFUNDED": 1,
        "PENDING": 1,
        "FAILED": 1,
    }
    first_day, second_day = day.date().isoformat(), next_day.date().isoformat()
    assert report["volume"] == [
        {
            "day": first_day,
            "currency": "INR",
            "payments": 3,
            "amount": "10000000.31",
            "refunded": "0.01",
            "net": "10000000.30",
        },
        {
            "day": first_day,
            "currency": "KWD",
            "payments": 1,
            "amount": "1.234",
            "refunded": "1.234",
            "net": "0.000",
        },
        {
            "day": second_day,
            "currency": "JPY",
            "payments": 1,
            "amount": "5",
            "refunded": "0",
            "net": "5",
        },
    ]
    # One day only: the JPY payment is outside.
    one_day = {"from": day.isoformat(), "to": next_day.isoformat()}
    report = (await admin.ok(ANALYTICS, one_day, as_=root))["analytics"]
    assert [v["currency"] for v in report["volume"]] == ["INR", "KWD"]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2030-01-01T00:00:00Z", "2031-01-03T00:00:00Z"),  # 367 days
        ("2030-01-02T00:00:00Z", "2030-01-01T00:00:00Z"),
        ("2030-01-01T00:00:00Z", "2030-01-01T00:00:00Z"),
    ],
)
async def test_analytics_range_is_checked(admin: Subgraph, start: str, end: str) -> None:
    result = await admin.gql(ANALYTICS, {"from": start, "to": end}, as_=admin.caller(Role.ADMIN))
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert result["errors"][0]["extensions"]["field"] == "to"


async def test_a_full_year_is_allowed(admin: Subgraph) -> None:
    data = await admin.ok(
        ANALYTICS,
        {"from": "2031-01-01T00:00:00Z", "to": "2032-01-02T00:00:00Z"},  # 366 days
        as_=admin.caller(Role.ADMIN),
    )
    assert [r["role"] for r in data["analytics"]["usersByRole"]] == ["ADMIN", "VENDOR", "CUSTOMER"]
