"""What the router answers when a subgraph fails in the middle of an operation or of a
subscription, with either query planner (`ROUTER_RUST_PLANNER` false: the gateway's JavaScript
planner; true: Hive Router's Rust planner and the executor of `@graphql-hive/router-runtime`,
patched in `router/patches/`, docs/router.md "The Rust query planner").

Each planner gets a router of its own whose auth subgraph sits behind a switch
(`tests/e2e/switch.py`): switched off, the entity fetches to auth fail (connection reset, as
with auth down) while the payments subgraph answers, so one nested fetch fails inside an
operation that otherwise succeeds. Per GraphQL's rules, a null in a non-null position nulls the
nearest nullable parent; each subscription event is answered on its own (no error or data of an
earlier event carried over); and an operation that ran has a `data` key."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
import websockets

from devtools.devstack import DevStack
from tests.e2e.conftest import SEED_PASSWORD, Client, subscribed_upstream
from tests.e2e.routers import RouterProcess, router_process
from tests.e2e.switch import SubgraphSwitch

PLANNERS = {"js-planner": "false", "rust-planner": "true"}
CUSTOMER = "customer@example.com"
PROTOCOL = websockets.Subprotocol("graphql-transport-ws")


@dataclass
class PlannedRouter:
    router: RouterProcess
    auth: SubgraphSwitch


@pytest.fixture(scope="module", params=list(PLANNERS))
def planned(request: pytest.FixtureRequest, stack: DevStack) -> Iterator[PlannedRouter]:
    switch = SubgraphSwitch(stack.ports["auth"])
    overrides = {
        "ROUTER_RUST_PLANNER": PLANNERS[request.param],
        "AUTH_SUBGRAPH_URL": switch.url(),
        # Tokens are still verified against the real auth subgraph's keys.
        "AUTH_JWKS_URL": stack.url("auth", "/.well-known/jwks.json"),
    }
    with switch.running(), router_process(stack, request.param, overrides) as router:
        yield PlannedRouter(router, switch)


@pytest.fixture
def routed(planned: PlannedRouter) -> Iterator[PlannedRouter]:
    """The router of one planner, with auth reachable at the start and the end of the test."""
    planned.auth.set(True)
    try:
        yield planned
    finally:
        planned.auth.set(True)


def codes(result: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in result.get("errors") or []]


async def gql(
    client: Client, router: RouterProcess, query: str, variables: dict[str, Any], token: str
) -> dict[str, Any]:
    response = await client.http.post(
        router.url(),
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {token}"},
    )
    result: dict[str, Any] = response.json()
    return result


async def create_payment(client: Client, token: str) -> str:
    result = await client.gql(
        "mutation($i: CreatePaymentInput!) { createPayment(input: $i) { id } }",
        {"i": {"amount": "150.00", "currency": "INR", "description": "planner results"}},
        token=token,
    )
    assert "errors" not in result, result
    payment_id: str = result["data"]["createPayment"]["id"]
    return payment_id


async def test_a_failed_entity_fetch_under_a_non_null_field_nulls_its_parent(
    client: Client, routed: PlannedRouter
) -> None:
    token = await client.login(CUSTOMER)
    payment_id = await create_payment(client, token)
    query = "query($id: ID!) { payment(id: $id) { id status createdBy { email } } }"

    routed.auth.set(False)
    down = await gql(client, routed.router, query, {"id": payment_id}, token)
    # createdBy is User!: its null (auth failed) nulls the payment, which is nullable.
    assert "data" in down, down
    assert down["data"] == {"payment": None}, down
    assert codes(down) == ["SERVICE_UNAVAILABLE"], down

    # The same with the failing field nullable: only that field is null.
    nullable = "query($id: ID!) { payment(id: $id) { id payer { email } } }"
    partial = await gql(client, routed.router, nullable, {"id": payment_id}, token)
    assert partial["data"] == {"payment": {"id": payment_id, "payer": None}}, partial
    assert codes(partial) == ["SERVICE_UNAVAILABLE"], partial

    routed.auth.set(True)
    up = await gql(client, routed.router, query, {"id": payment_id}, token)
    assert "errors" not in up, up
    assert up["data"]["payment"]["createdBy"] == {"email": CUSTOMER}


async def test_a_null_entity_under_a_non_null_field_is_reported_not_silent(
    client: Client, routed: PlannedRouter, stack: DevStack
) -> None:
    """Auth answers a reference to an id that never was an account with null and no error: the
    payment naming it as creator is nulled (createdBy is User!) and the answer says why, as
    graphql-js does; the patched Rust executor had nulled it silently (HTTP 200, no error, like
    not found). (A deleted account resolves to a placeholder, not null: test_admin_lifecycle.)"""
    password = "Planner-account-passphrase-1"
    email = f"planner-customer-{uuid.uuid4().hex[:10]}@example.com"
    # An account of the test's own: the seeded customer's lists must not meet this payment.
    created = await client.gql(
        "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }",
        {
            "i": {
                "email": email,
                "name": "Planner Account",
                "role": "CUSTOMER",
                "password": password,
            }
        },
        token=await client.login("admin@example.com"),
    )
    assert "errors" not in created, created
    payer_id = uuid.UUID(created["data"]["createUser"]["id"])
    customer = await client.login(email, password)
    payment_id = uuid.uuid4()
    conn = await asyncpg.connect(stack.env["DATABASE_URL"])
    try:  # a row whose creator no service knows (no cross-schema foreign key to stop it)
        await conn.execute(
            "INSERT INTO payments.payments (id, type, status, amount_minor, "
            "amount_refunded_minor, currency, payer_id, created_by, receipt, created_at, "
            "updated_at, version) VALUES ($1, 'PAYMENT', 'PENDING', 15000, 0, 'INR', $2, $3, "
            "$4, now(), now(), 1)",
            payment_id, payer_id, uuid.uuid4(), f"planner-{payment_id.hex[:30]}",
        )  # fmt: skip
    finally:
        await conn.close()
    query = "query($id: ID!) { payment(id: $id) { id createdBy { email } } }"
    result = await gql(client, routed.router, query, {"id": str(payment_id)}, customer)
    assert result["data"] == {"payment": None}, result
    assert result.get("errors"), result  # not silent


async def test_a_null_in_a_non_null_list_item_nulls_up_to_the_nullable_parent(
    client: Client, routed: PlannedRouter
) -> None:
    token = await client.login(CUSTOMER)
    await create_payment(client, token)
    # payments: PaymentConnection!, edges: [PaymentEdge!]!, node: Payment!, createdBy: User!:
    # nothing on the way up is nullable, so the whole of data is null. (Two User fields: the
    # Rust planner fetches them from auth in one BatchFetch, the other path of its executor.)
    query = (
        "query($n: Int) { payments(first: $n) "
        "{ edges { node { id payer { name } createdBy { email } } } } }"
    )
    routed.auth.set(False)
    down = await gql(client, routed.router, query, {"n": 3}, token)
    assert "data" in down, down
    assert down["data"] is None, down
    assert codes(down), down
    assert set(codes(down)) == {"SERVICE_UNAVAILABLE"}, down

    routed.auth.set(True)
    up = await gql(client, routed.router, query, {"n": 3}, token)
    assert "errors" not in up, up
    assert {e["node"]["createdBy"]["email"] for e in up["data"]["payments"]["edges"]} == {CUSTOMER}


async def test_an_operation_refused_as_a_whole_has_a_null_data_key(
    client: Client, routed: PlannedRouter
) -> None:
    token = await client.login(CUSTOMER)
    result = await gql(
        client,
        routed.router,
        "mutation($id: ID!) { cancelPayment(id: $id) { id } }",
        {"id": str(uuid.uuid4())},
        token,
    )
    assert "data" in result, result
    assert result["data"] is None, result
    assert codes(result) == ["NOT_FOUND"], result


# ----------------------------------------------------------------------------- subscriptions


async def receive(ws: websockets.ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 15))
    return message


async def next_payload(ws: websockets.ClientConnection) -> dict[str, Any]:
    message = await receive(ws)
    assert message["type"] == "next", message
    payload: dict[str, Any] = message["payload"]
    return payload


@asynccontextmanager
async def subscription(
    client: Client, router: RouterProcess, token: str, payment_id: str, fields: str
) -> AsyncIterator[websockets.ClientConnection]:
    async with websockets.connect(router.ws_url, subprotocols=[PROTOCOL]) as ws:
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        await ws.send(json.dumps(init))
        assert (await receive(ws))["type"] == "connection_ack"
        query = f"subscription($id: ID!) {{ paymentUpdated(id: $id) {{ {fields} }} }}"
        payload = {"query": query, "variables": {"id": payment_id}}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        await subscribed_upstream(client, payment_id)
        yield ws


async def start_checkout(client: Client, token: str, payment_id: str) -> None:
    result = await client.gql(
        "mutation($id: ID!) { startCheckout(paymentId: $id) { paymentId } }",
        {"id": payment_id},
        token=token,
    )
    assert "errors" not in result, result


async def cancel(client: Client, token: str, payment_id: str) -> None:
    result = await client.gql(
        "mutation($id: ID!) { cancelPayment(id: $id) { id } }", {"id": payment_id}, token=token
    )
    assert "errors" not in result, result


async def test_a_subscription_event_after_a_failed_entity_fetch_is_clean(
    client: Client, routed: PlannedRouter
) -> None:
    token = await client.login(CUSTOMER)
    payment_id = await create_payment(client, token)
    async with subscription(
        client, routed.router, token, payment_id, "id status payer { email }"
    ) as ws:
        routed.auth.set(False)
        await start_checkout(client, token, payment_id)
        failed = await next_payload(ws)
        assert failed["data"] == {
            "paymentUpdated": {"id": payment_id, "status": "PROCESSING", "payer": None}
        }, failed
        assert codes(failed) == ["SERVICE_UNAVAILABLE"], failed

        routed.auth.set(True)
        await cancel(client, token, payment_id)
        clean = await next_payload(ws)
        # Its own data, and none of the previous event's errors.
        payer = {"email": CUSTOMER}
        assert clean == {
            "data": {"paymentUpdated": {"id": payment_id, "status": "CANCELLED", "payer": payer}}
        }, clean


async def test_a_subscription_event_without_data_carries_no_earlier_data(
    client: Client, routed: PlannedRouter
) -> None:
    login = await client.gql(
        "mutation($i: LoginInput!) { login(input: $i) { accessToken refreshToken } }",
        {"i": {"email": CUSTOMER, "password": SEED_PASSWORD}},
    )
    assert "errors" not in login, login
    token, refresh = login["data"]["login"]["accessToken"], login["data"]["login"]["refreshToken"]
    admin = await client.login("admin@example.com")
    payment_id = await create_payment(client, token)
    async with subscription(client, routed.router, token, payment_id, "id status") as ws:
        await start_checkout(client, token, payment_id)
        first = await next_payload(ws)
        assert first == {"data": {"paymentUpdated": {"id": payment_id, "status": "PROCESSING"}}}

        # The subscriber logs out: the next update ends the subscription with UNAUTHENTICATED
        # (the payments subgraph checks revocation before each push): an event without data.
        out = await client.gql(
            "mutation($r: String!) { logout(refreshToken: $r) }", {"r": refresh}, token=token
        )
        assert out.get("data") == {"logout": True}, out
        await cancel(client, admin, payment_id)
        ended = await next_payload(ws)
        assert ended.get("data") is None, ended
        assert codes(ended) == ["UNAUTHENTICATED"], ended
        assert (await receive(ws))["type"] == "complete"
