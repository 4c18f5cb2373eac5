"""The payments subgraph over GraphQL, in-process, signed as the router signs."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from shared.scopes import Role
from subgraphs.payments.enums import PaymentStatus, PaymentType
from subgraphs.payments.schema import create_schema
from tests.helpers import Subgraph, count_statements, error_codes, gql
from tests.payments.factories import insert_payment
from tests.payments.people import member
from tests.sdl import without_descriptions

PAYMENT_FIELDS = """id type status amount amountRefunded currency description
  payer { id } payee { id } createdBy { id } razorpayOrderId razorpayPaymentId
  transactions { id kind amount status fromStatus toStatus createdAt } createdAt updatedAt"""
PAYMENT = f"query P($id: ID!) {{ payment(id: $id) {{ {PAYMENT_FIELDS} }} }}"
PAYMENTS = f"""query L($filter: PaymentFilter, $first: Int, $after: String) {{
  payments(filter: $filter, first: $first, after: $after) {{
    totalCount pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
    edges {{ cursor node {{ {PAYMENT_FIELDS} }} }} }} }}"""
USER_PAYMENTS = """query U($r: [_Any!]!, $first: Int, $after: String) {
  _entities(representations: $r) { ... on User { id
    payments(first: $first, after: $after) { totalCount edges { node { id } } } } } }"""
PAYMENT_ENTITY = """query E($r: [_Any!]!) {
  _entities(representations: $r) { ... on Payment { id amount status createdBy { id } } } }"""
CREATE = f"""mutation C($input: CreatePaymentInput!) {{
  createPayment(input: $input) {{ {PAYMENT_FIELDS} }} }}"""
CANCEL = "mutation X($id: ID!) { cancelPayment(id: $id) { id status transactions { kind } } }"


def window() -> datetime:
    """A random past day: listings filtered to it see only this test's rows."""
    return datetime(1995, 1, 1, tzinfo=UTC) + timedelta(days=random.randrange(3000 * 10))


def test_sdl_declares_the_access_rules() -> None:
    sdl = without_descriptions(create_schema(None).as_str())
    assert 'type Payment @key(fields: "id")' in sdl
    assert "payment(id: ID!): Payment @authenticated" in sdl
    assert (
        "payments(first: Int = 20, after: String = null): PaymentConnection! "
        '@policy(policies: [["self_or_admin"]]) @requiresScopes(scopes: [["payments:read"]])'
    ) in sdl
    assert (
        "createPayment(input: CreatePaymentInput!): Payment! @authenticated "
        '@requiresScopes(scopes: [["payments:write"]])' in sdl
    )


async def test_payment_visible_to_its_parties_and_admin(
    payments: Subgraph, committed: AsyncSession
) -> None:
    vendor, payer, payee = (
        payments.caller(Role.VENDOR),
        payments.caller(Role.CUSTOMER),
        payments.caller(Role.VENDOR),
    )
    row = await insert_payment(
        committed,
        created_by=vendor.id,
        payer_id=payer.id,
        payee_id=payee.id,
        type=PaymentType.INITIATE,
        status=PaymentStatus.INITIATED,
        amount_minor=9999,
    )
    for caller in (vendor, payer, payee, payments.caller(Role.ADMIN)):
        data = await payments.ok(PAYMENT, {"id": str(row.id)}, as_=caller)
        got = data["payment"]
        assert got["id"] == str(row.id)
        assert (got["amount"], got["amountRefunded"], got["currency"]) == ("99.99", "0.00", "INR")
        assert (got["type"], got["status"]) == ("INITIATE", "INITIATED")
        assert got["payer"] == {"id": str(payer.id)}
        assert got["payee"] == {"id": str(payee.id)}
        assert got["createdBy"] == {"id": str(vendor.id)}
        assert got["createdAt"].endswith("+00:00")
        assert [t["kind"] for t in got["transactions"]] == ["CREATE"]


async def test_payment_access_failures(payments: Subgraph, committed: AsyncSession) -> None:
    owner = payments.caller(Role.CUSTOMER)
    row = await insert_payment(committed, created_by=owner.id)
    variables = {"id": str(row.id)}

    stranger = await payments.gql(PAYMENT, variables, as_=payments.caller(Role.CUSTOMER))
    assert error_codes(stranger) == ["NOT_FOUND"]
    assert stranger["data"] == {"payment": None}
    missing = await payments.gql(PAYMENT, {"id": str(uuid.uuid4())}, as_=owner)
    assert error_codes(missing) == ["NOT_FOUND"]
    assert stranger["errors"][0]["message"] == missing["errors"][0]["message"]
    malformed = await payments.gql(PAYMENT, {"id": "nope"}, as_=owner)
    assert error_codes(malformed) == ["BAD_USER_INPUT"]
    assert malformed["errors"][0]["extensions"]["field"] == "id"

    assert error_codes(await payments.gql(PAYMENT, variables)) == ["UNAUTHENTICATED"]
    assert error_codes(await payments.gql(PAYMENTS)) == ["UNAUTHENTICATED"]
    no_scope = payments.caller(Role.CUSTOMER, user_id=owner.id, scopes=frozenset())
    assert error_codes(await payments.gql(PAYMENT, variables, as_=no_scope)) == ["FORBIDDEN"]
    assert error_codes(await payments.gql(PAYMENTS, as_=no_scope)) == ["FORBIDDEN"]
    unsigned = await payments.gql(PAYMENT, variables, as_=owner, signed=False)
    assert error_codes(unsigned) == ["FORBIDDEN"]
    bad_token = await gql(payments.client, PAYMENT, variables, token="not-a-jwt")
    assert error_codes(bad_token) == ["UNAUTHENTICATED"]


async def test_listing_shows_own_payments_and_admin_sees_all(
    payments: Subgraph, committed: AsyncSession
) -> None:
    alice, bob, vendor = (
        payments.caller(Role.CUSTOMER),
        payments.caller(Role.CUSTOMER),
        payments.caller(Role.VENDOR),
    )
    day = window()
    mine = await insert_payment(committed, created_by=alice.id, created_at=day)
    requested = await insert_payment(
        committed,
        created_by=vendor.id,
        payer_id=alice.id,
        type=PaymentType.INITIATE,
        status=PaymentStatus.INITIATED,
        created_at=day + timedelta(hours=1),
    )
    to_me = await insert_payment(
        committed, created_by=bob.id, payee_id=alice.id, created_at=day + timedelta(hours=2)
    )
    bobs = await insert_payment(committed, created_by=bob.id, created_at=day + timedelta(hours=3))

    def ids(data: dict[str, object]) -> list[str]:
        return [e["node"]["id"] for e in data["payments"]["edges"]]  # type: ignore[index]

    alice_sees = await payments.ok(PAYMENTS, as_=alice)
    assert ids(alice_sees) == [str(to_me.id), str(requested.id), str(mine.id)]
    assert alice_sees["payments"]["totalCount"] == 3
    vendor_sees = await payments.ok(PAYMENTS, as_=vendor)
    assert ids(vendor_sees) == [str(requested.id)]

    scoped = {"createdFrom": day.isoformat(), "createdTo": (day + timedelta(days=1)).isoformat()}
    admin_sees = await payments.ok(PAYMENTS, {"filter": scoped}, as_=payments.caller(Role.ADMIN))
    assert ids(admin_sees) == [str(p.id) for p in (bobs, to_me, requested, mine)]
    assert admin_sees["payments"]["totalCount"] == 4


async def test_filters(payments: Subgraph, committed: AsyncSession) -> None:
    me = payments.caller(Role.CUSTOMER)
    day = window()
    made = [
        await insert_payment(
            committed,
            created_by=me.id,
            status=status,
            currency=currency,
            created_at=day + timedelta(hours=i),
        )
        for i, (status, currency) in enumerate(
            [
                (PaymentStatus.PENDING, "INR"),
                (PaymentStatus.COMPLETED, "USD"),
                (PaymentStatus.FAILED, "INR"),
                (PaymentStatus.PARTIALLY_REFUNDED, "EUR"),
            ]
        )
    ]

    async def listed(filter: dict[str, object]) -> list[int]:
        data = await payments.ok(PAYMENTS, {"filter": filter}, as_=me)
        index = {str(p.id): i for i, p in enumerate(made)}
        return [index[e["node"]["id"]] for e in data["payments"]["edges"]]

    assert await listed({"status": "COMPLETED"}) == [1]
    assert await listed({"status": ["COMPLETED", "PARTIALLY_REFUNDED"]}) == [3, 1]
    assert await listed({"currency": "inr"}) == [2, 0]
    assert await listed({"type": "INITIATE"}) == []
    assert await listed({"type": ["PAYMENT"], "currency": "USD"}) == [1]
    assert await listed(
        {
            "createdFrom": (day + timedelta(hours=1)).isoformat(),
            "createdTo": (day + timedelta(hours=3)).isoformat(),
        }
    ) == [2, 1]

    for bad, field in [
        ({"currency": "XYZ"}, "currency"),
        ({"status": []}, "status"),
        ({"type": []}, "type"),
        ({"createdFrom": day.isoformat(), "createdTo": day.isoformat()}, "createdTo"),
    ]:
        result = await payments.gql(PAYMENTS, {"filter": bad}, as_=me)
        assert error_codes(result) == ["BAD_USER_INPUT"], bad
        assert result["errors"][0]["extensions"]["field"] == field
    naive = await payments.gql(PAYMENTS, {"filter": {"createdFrom": "2024-01-01T00:00:00"}}, as_=me)
    assert error_codes(naive) == ["BAD_USER_INPUT"]


async def test_cursor_walk_and_pagination_errors(
    payments: Subgraph, committed: AsyncSession
) -> None:
    me = payments.caller(Role.CUSTOMER)
    day = window()
    # Two share a timestamp: the id breaks the tie, so nothing is skipped or repeated.
    stamps = [day, day, day + timedelta(seconds=1), day + timedelta(seconds=2), day + timedelta(3)]
    made = {
        str((await insert_payment(committed, created_by=me.id, created_at=t)).id) for t in stamps
    }

    seen: list[str] = []
    after = None
    pages = 0
    while True:
        data = (await payments.ok(PAYMENTS, {"first": 2, "after": after}, as_=me))["payments"]
        pages += 1
        assert data["totalCount"] == 5
        assert data["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen += [e["node"]["id"] for e in data["edges"]]
        assert data["pageInfo"]["endCursor"] == data["edges"][-1]["cursor"]
        assert data["pageInfo"]["startCursor"] == data["edges"][0]["cursor"]
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
    assert pages == 3
    assert len(seen) == 5
    assert set(seen) == made

    default = (await payments.ok(PAYMENTS, {"first": None}, as_=me))["payments"]
    assert len(default["edges"]) == 5

    for variables, field in [
        ({"first": 0}, "first"),
        ({"first": 101}, "first"),
        ({"first": -1}, "first"),
        ({"after": "not-a-cursor"}, "after"),
        ({"after": "azE6eHl6OmFiYw"}, "after"),  # k1:xyz:abc
        ({"after": ""}, "after"),
    ]:
        result = await payments.gql(PAYMENTS, variables, as_=me)
        assert error_codes(result) == ["BAD_USER_INPUT"], variables
        assert result["errors"][0]["extensions"]["field"] == field


async def test_user_payments_self_or_admin(payments: Subgraph, committed: AsyncSession) -> None:
    me, other = payments.caller(Role.CUSTOMER), payments.caller(Role.CUSTOMER)
    row = await insert_payment(committed, created_by=me.id)
    reps = {"r": [{"__typename": "User", "id": str(me.id)}]}

    own = await payments.ok(USER_PAYMENTS, reps, as_=me)
    assert own["_entities"][0]["payments"]["edges"] == [{"node": {"id": str(row.id)}}]
    admin = await payments.ok(USER_PAYMENTS, reps, as_=payments.caller(Role.ADMIN))
    assert admin["_entities"][0]["payments"]["totalCount"] == 1

    denied = await payments.gql(USER_PAYMENTS, reps, as_=other)
    assert error_codes(denied) == ["FORBIDDEN"]
    assert denied["data"] == {"_entities": [None]}
    anonymous = await payments.gql(USER_PAYMENTS, reps)
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]
    bad_first = await payments.gql(USER_PAYMENTS, {**reps, "first": 500}, as_=me)
    assert error_codes(bad_first) == ["BAD_USER_INPUT"]


async def test_payment_entity(payments: Subgraph, committed: AsyncSession) -> None:
    me = payments.caller(Role.CUSTOMER)
    row = await insert_payment(committed, created_by=me.id, amount_minor=150)
    reps = {"r": [{"__typename": "Payment", "id": str(row.id)}]}
    data = await payments.ok(PAYMENT_ENTITY, reps, as_=me)
    assert data["_entities"] == [
        {"id": str(row.id), "amount": "1.50", "status": "PENDING", "createdBy": {"id": str(me.id)}}
    ]
    hidden = await payments.gql(PAYMENT_ENTITY, reps, as_=payments.caller(Role.VENDOR))
    assert error_codes(hidden) == ["NOT_FOUND"]
    anonymous = await payments.gql(PAYMENT_ENTITY, reps)
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]
    user = await payments.ok(
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id } } }",
        {"r": [{"__typename": "User", "id": str(me.id)}]},
        as_=me,
    )
    assert user["_entities"] == [{"id": str(me.id)}]


@pytest.mark.parametrize(
    ("currency", "minor", "text"), [("JPY", 500, "500"), ("KWD", 1234, "1.234")]
)
async def test_amounts_use_the_currency_exponent(
    payments: Subgraph, committed: AsyncSession, currency: str, minor: int, text: str
) -> None:
    me = payments.caller(Role.CUSTOMER)
    row = await insert_payment(committed, created_by=me.id, currency=currency, amount_minor=minor)
    data = await payments.ok(PAYMENT, {"id": str(row.id)}, as_=me)
    assert data["payment"]["amount"] == text
    assert data["payment"]["transactions"][0]["amount"] == text


async def test_listing_cost_does_not_grow_with_the_page(
    payments: Subgraph, committed: AsyncSession
) -> None:
    admin = payments.caller(Role.ADMIN)
    day = window()
    for i in range(50):
        await insert_payment(
            committed,
            created_by=uuid.uuid4(),
            payee_id=uuid.uuid4(),
            created_at=day + timedelta(minutes=i),
            transactions=2,
            commit=False,
        )
    await committed.commit()
    scoped = {"createdFrom": day.isoformat(), "createdTo": (day + timedelta(days=1)).isoformat()}

    counts = {}
    for first in (1, 50):
        with count_statements(payments.engine) as counter:
            data = await payments.ok(PAYMENTS, {"filter": scoped, "first": first}, as_=admin)
        edges = data["payments"]["edges"]
        assert len(edges) == first
        assert all(len(e["node"]["transactions"]) == 2 for e in edges)
        counts[first] = counter.count
    assert counts[1] == counts[50] == 3  # page, totalCount, transactions (one batch)


async def test_create_and_cancel_over_graphql(payments: Subgraph) -> None:
    customer, vendor = await member(payments, Role.CUSTOMER), payments.caller(Role.VENDOR)
    created = await payments.ok(
        CREATE, {"input": {"amount": "250.50", "description": "Tea"}}, as_=customer
    )
    payment = created["createPayment"]
    assert (payment["type"], payment["status"], payment["amount"]) == (
        "PAYMENT",
        "PENDING",
        "250.50",
    )
    assert payment["payer"] == {"id": str(customer.id)}
    assert payment["payee"] is None
    assert [(t["kind"], t["toStatus"]) for t in payment["transactions"]] == [("CREATE", "PENDING")]

    request = (
        await payments.ok(
            CREATE,
            {"input": {"amount": "100", "currency": "USD", "payerId": str(customer.id)}},
            as_=vendor,
        )
    )["createPayment"]
    assert (request["type"], request["status"], request["amount"]) == (
        "INITIATE",
        "INITIATED",
        "100.00",
    )
    # The payer of a request cannot cancel it; a stranger cannot see it.
    refused = await payments.gql(CANCEL, {"id": request["id"]}, as_=customer)
    assert error_codes(refused) == ["FORBIDDEN"]
    hidden = await payments.gql(CANCEL, {"id": request["id"]}, as_=payments.caller(Role.VENDOR))
    assert error_codes(hidden) == ["NOT_FOUND"]
    cancelled = await payments.ok(CANCEL, {"id": request["id"]}, as_=vendor)
    assert cancelled["cancelPayment"]["status"] == "CANCELLED"
    assert [t["kind"] for t in cancelled["cancelPayment"]["transactions"]] == [
        "CREATE",
        "STATUS_CHANGE",
    ]


async def test_create_payment_input_errors(payments: Subgraph, committed: AsyncSession) -> None:
    customer = payments.caller(Role.CUSTOMER)
    for amount in (12.5, 12, "1e3", "NaN", "Infinity", " 1.00", "1,00", "+1"):
        result = await payments.gql(CREATE, {"input": {"amount": amount}}, as_=customer)
        assert error_codes(result) == ["BAD_USER_INPUT"], amount
    literal = await payments.gql(
        "mutation { createPayment(input: {amount: 12.5}) { id } }", as_=customer
    )
    assert error_codes(literal) == ["BAD_USER_INPUT"]
    precision = await payments.gql(CREATE, {"input": {"amount": "1.005"}}, as_=customer)
    assert precision["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "amount"}
    assert error_codes(await payments.gql(CREATE, {"input": {"amount": "1"}})) == [
        "UNAUTHENTICATED"
    ]
    read_only = payments.caller(Role.CUSTOMER, scopes=frozenset({"payments:read"}))
    assert error_codes(await payments.gql(CREATE, {"input": {"amount": "1"}}, as_=read_only)) == [
        "FORBIDDEN"
    ]
    done = await insert_payment(committed, created_by=customer.id, status=PaymentStatus.COMPLETED)
    conflict = await payments.gql(CANCEL, {"id": str(done.id)}, as_=customer)
    assert error_codes(conflict) == ["CONFLICT"]


async def test_health_endpoints(payments: Subgraph) -> None:
    assert (await payments.client.get("/healthz")).json()["service"] == "payments"
    assert (await payments.client.get("/readyz")).status_code == 200
    assert "http_requests" in (await payments.client.get("/metrics")).text
