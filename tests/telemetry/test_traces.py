"""One trace from the client through the router, two subgraphs and PostgreSQL; and the webhook
whose payment change is pushed to a subscriber in a span linked to the webhook's trace."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import websockets

from tests.e2e.conftest import Client, subscribed_upstream
from tests.telemetry.conftest import TracedStack
from tests.telemetry.receiver import ReceivedSpan

pytestmark = pytest.mark.e2e

SERVER = 2  # SpanKind.SPAN_KIND_SERVER in OTLP


def traceparent() -> tuple[str, str, str]:
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return f"00-{trace_id}-{span_id}-01", trace_id, span_id


async def post(client: Client, body: dict[str, Any], **headers: str) -> dict[str, Any]:
    response = await client.http.post(client.stack.url("router"), json=body, headers=headers)
    result: dict[str, Any] = response.json()
    assert "errors" not in result, result
    return result


def services(spans: list[ReceivedSpan]) -> set[str]:
    return {s.service for s in spans}


async def test_one_trace_holds_router_two_subgraphs_and_postgresql(
    client: Client, traced: TracedStack
) -> None:
    token = await client.login("customer@example.com")
    header, trace_id, client_span = traceparent()

    result = await post(
        client,
        {"query": "query MeAndProfile { me { id email profile { bio } } }"},
        authorization=f"Bearer {token}",
        traceparent=header,
    )
    assert result["data"]["me"]["email"] == "customer@example.com"

    def complete(spans: list[ReceivedSpan]) -> bool:
        mine = [s for s in spans if s.trace_id == trace_id]
        known = {s.span_id for s in mine} | {client_span}
        return (
            {"bff-router", "bff-auth", "bff-profile"} <= services(mine)
            and any(s.attributes.get("db.system") == "postgresql" for s in mine)
            # Batches arrive in any order: wait until every span's parent has arrived.
            and all(s.parent_span_id in known for s in mine)
        )

    await asyncio.to_thread(traced.receiver.wait_for, complete)
    spans = traced.receiver.trace(trace_id)
    by_id = {s.span_id: s for s in spans}
    # The router continued the client's trace: its first span is the client span's child.
    roots = [s for s in spans if s.parent_span_id not in by_id]
    assert {(s.service, s.parent_span_id) for s in roots} == {("bff-router", client_span)}
    # Each subgraph's server span is a child of a router span; its operation and resolver spans
    # and SQL nest below it.
    for service in ("bff-auth", "bff-profile"):
        server = [s for s in spans if s.service == service and s.name == "POST /graphql"]
        assert server, service
        assert all(by_id[s.parent_span_id].service == "bff-router" for s in server)
    names = {(s.service, s.name) for s in spans}
    assert ("bff-auth", "query MeAndProfile") in names
    assert ("bff-auth", "resolve Query.me") in names
    sql = [s for s in spans if s.attributes.get("db.system") == "postgresql"]
    assert {s.service for s in sql} >= {"bff-auth", "bff-profile"}
    # Nothing secret in span attributes: no token, no argument values.
    assert not any(token in json.dumps(s.attributes, default=str) for s in spans)
    print(f"\ntrace {trace_id}:\n" + tree(spans, client_span))  # run with -s to see it


async def test_no_document_text_or_query_string_reaches_a_span(
    client: Client, traced: TracedStack
) -> None:
    """A password written inline in the document (or a token in a GET's query string) must not be
    exported: the gateway's plugin records the whole document and URL; the router drops them."""
    password = f"Inline-{secrets.token_hex(8)}"
    header, trace_id, _ = traceparent()
    document = (
        f'mutation Leaky {{ login(input: {{email: "nobody@example.com", password: "{password}"}})'
        " { accessToken } }"
    )
    response = await client.http.post(
        client.stack.url("router"), json={"query": document}, headers={"traceparent": header}
    )
    assert response.status_code == 200
    get_header, get_trace, _ = traceparent()
    marker = f"qs-{secrets.token_hex(8)}"
    answered = await client.http.get(
        client.stack.url("router"),
        params={"query": "query Q { __typename }", "extensions": "{}", "x": marker},
        headers={"traceparent": get_header},
    )
    assert answered.status_code == 200

    def arrived(spans: list[ReceivedSpan]) -> bool:
        seen = {(s.trace_id, s.service) for s in spans}
        return {(trace_id, "bff-router"), (trace_id, "bff-auth"), (get_trace, "bff-router")} <= seen

    await asyncio.to_thread(traced.receiver.wait_for, arrived)
    exported = json.dumps(
        [s.attributes for s in traced.receiver.trace(trace_id) + traced.receiver.trace(get_trace)],
        default=str,
    )
    assert password not in exported
    assert marker not in exported


def tree(spans: list[ReceivedSpan], root: str, depth: int = 0) -> str:
    """The spans under `root`, indented, in start order."""
    lines = []
    for span in sorted((s for s in spans if s.parent_span_id == root), key=lambda s: s.start_ns):
        lines.append(f"{'  ' * depth}{span.service}: {span.name}")
        lines.append(tree(spans, span.span_id, depth + 1))
    return "\n".join(line for line in lines if line)


async def test_webhook_trace_links_to_the_subscription_push(
    client: Client, traced: TracedStack
) -> None:
    customer = await client.login("customer@example.com")
    vendor = await client.login("vendor@example.com")
    me = await client.gql("{ me { id } }", token=vendor)
    created = await client.gql(
        "mutation($i: CreatePaymentInput!) { createPayment(input: $i) { id } }",
        {"i": {"amount": "150.00", "currency": "INR", "payeeId": me["data"]["me"]["id"]}},
        token=customer,
    )
    payment_id = created["data"]["createPayment"]["id"]
    checkout = await client.gql(
        "mutation($id: ID!) { startCheckout(paymentId: $id) { razorpayOrderId } }",
        {"id": payment_id},
        token=customer,
    )
    order_id = checkout["data"]["startCheckout"]["razorpayOrderId"]

    header, subscriber_trace, _ = traceparent()
    async with subscription(client, customer, payment_id, header) as ws:
        await subscribed_upstream(client, payment_id)
        # The simulator takes the payment and posts Razorpay's signed webhooks to the sidecar.
        paid = await client.http.post(
            client.stack.url("simulator", f"/_sim/orders/{order_id}/pay"), json={"method": "card"}
        )
        assert paid.status_code == 200, paid.text
        update = json.loads(await asyncio.wait_for(ws.recv(), 20))
        assert update["type"] == "next", update
        assert update["payload"]["data"]["paymentUpdated"]["id"] == payment_id
    # Closed: the subscription's own spans (its WebSocket connection) end and are exported.

    def webhook_traces(spans: list[ReceivedSpan]) -> set[str]:
        return {
            s.trace_id
            for s in spans
            if s.service == "bff-webhooks" and s.kind == SERVER and "/webhooks/razorpay" in s.name
        }

    def linked_push(spans: list[ReceivedSpan]) -> ReceivedSpan | None:
        webhooks = webhook_traces(spans)
        return next(
            (
                s
                for s in spans
                if s.trace_id == subscriber_trace  # the subscriber's trace, continued
                and s.service == "bff-payments"
                and s.name == "paymentUpdated push"
                and any(trace_id in webhooks for trace_id, _ in s.links)
            ),
            None,
        )

    def upstream_of_router(spans: list[ReceivedSpan], push: ReceivedSpan) -> bool:
        # The push belongs to the subscriber's trace, which the router continued and passed to
        # the payments subgraph over the WebSocket upgrade (traceparent header).
        mine = {s.span_id: s for s in spans if s.trace_id == push.trace_id}
        return any(
            s.service == "bff-payments" and mine.get(s.parent_span_id, s).service == "bff-router"
            for s in mine.values()
        )

    spans = await asyncio.to_thread(
        traced.receiver.wait_for,
        lambda spans: (push := linked_push(spans)) is not None and upstream_of_router(spans, push),
    )
    push = linked_push(spans)
    assert push is not None
    # The webhook's trace holds the sidecar's SQL (the event stored, the payment moved) and the
    # relay that published the change links to it as well.
    webhook_trace = next(t for t, _ in push.links if t in webhook_traces(spans))
    assert any(
        s.attributes.get("db.system") == "postgresql" for s in traced.receiver.trace(webhook_trace)
    )
    assert any(
        s.name == "outbox publish payments" and webhook_trace in {t for t, _ in s.links}
        for s in spans
    )


@asynccontextmanager
async def subscription(
    client: Client, token: str, payment_id: str, traceparent: str
) -> AsyncIterator[websockets.ClientConnection]:
    """A `paymentUpdated` subscription through the router; its trace context travels in the
    connection_init payload (browsers cannot set WebSocket headers)."""
    url = client.stack.url("router").replace("http://", "ws://")
    async with websockets.connect(
        url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")]
    ) as ws:
        await ws.send(
            json.dumps(
                {
                    "type": "connection_init",
                    "payload": {"Authorization": f"Bearer {token}", "traceparent": traceparent},
                }
            )
        )
        ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert ack["type"] == "connection_ack", ack
        query = "subscription($id: ID!) { paymentUpdated(id: $id) { id status } }"
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": query, "variables": {"id": payment_id}},
                }
            )
        )
        yield ws
