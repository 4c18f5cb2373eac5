"""How a subscription's errors reach a client through the router (docs/errors.md,
docs/live-updates.md), measured on the wire (graphql-transport-ws, client -> router): every
refusal, the router's (no or bad token, an invalid document) and the payments subgraph's
(NOT_FOUND, BAD_USER_INPUT) alike, arrives as one `next` whose payload carries `errors` (no
`data`), then `complete`; never as an `error` message, and the connection stays open."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from tests.e2e.conftest import Client

PROTOCOL = websockets.Subprotocol("graphql-transport-ws")
SUBSCRIPTION = "subscription($id: ID!) { paymentUpdated(id: $id) { id status } }"


async def receive(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 15))
    return message


async def subscribe(
    ws: ClientConnection, op: str, payment_id: str, query: str = SUBSCRIPTION
) -> None:
    payload = {"query": query, "variables": {"id": payment_id}}
    await ws.send(json.dumps({"id": op, "type": "subscribe", "payload": payload}))


async def refusal(
    client: Client, payload: dict[str, Any], payment_id: str, query: str = SUBSCRIPTION
) -> list[dict[str, Any]]:
    """The messages of one refused subscription, up to the message that ends it; then proves
    the connection still serves another subscription."""
    url = client.stack.url("router").replace("http://", "ws://")
    async with websockets.connect(url, subprotocols=[PROTOCOL], open_timeout=10) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        assert await receive(ws) == {"type": "connection_ack"}
        await subscribe(ws, "1", payment_id, query)
        messages = [await receive(ws)]
        while messages[-1].get("type") not in ("complete", "error"):
            messages.append(await receive(ws))
        # The socket is still usable: a second subscription on it gets its own answer.
        await subscribe(ws, "2", payment_id)
        assert (await receive(ws))["id"] == "2"
    return messages


def assert_next_then_complete(messages: list[dict[str, Any]], code: str) -> None:
    assert [m["type"] for m in messages] == ["next", "complete"], messages
    assert all(m["id"] == "1" for m in messages)
    payload = messages[0]["payload"]
    assert payload.get("data") is None, payload
    assert [e["extensions"]["code"] for e in payload["errors"]] == [code], payload


async def create_payment(client: Client, token: str) -> str:
    result = await client.gql(
        "mutation($i: CreatePaymentInput!) { createPayment(input: $i) { id } }",
        {"i": {"amount": "120.00", "currency": "INR", "description": "subscription errors"}},
        token=token,
    )
    assert "errors" not in result, result
    payment_id: str = result["data"]["createPayment"]["id"]
    return payment_id


async def test_an_unknown_payment_is_next_with_not_found_then_complete(client: Client) -> None:
    token = await client.login("customer@example.com")
    messages = await refusal(client, {"Authorization": f"Bearer {token}"}, str(uuid.uuid4()))
    assert_next_then_complete(messages, "NOT_FOUND")


async def test_someone_elses_payment_is_answered_like_an_unknown_one(client: Client) -> None:
    payment_id = await create_payment(client, await client.login("customer@example.com"))
    vendor = await client.login("vendor@example.com")
    messages = await refusal(client, {"Authorization": f"Bearer {vendor}"}, payment_id)
    assert_next_then_complete(messages, "NOT_FOUND")
    assert messages[0]["payload"]["errors"][0]["message"] == "Payment not found"


async def test_a_malformed_id_is_next_with_bad_user_input_then_complete(client: Client) -> None:
    token = await client.login("customer@example.com")
    messages = await refusal(client, {"Authorization": f"Bearer {token}"}, "not-a-uuid")
    assert_next_then_complete(messages, "BAD_USER_INPUT")


@pytest.mark.parametrize(
    "payload", [{}, {"Authorization": "Bearer not-a-token"}], ids=["no token", "bad token"]
)
async def test_no_or_a_bad_token_is_next_with_unauthenticated_then_complete(
    client: Client, payload: dict[str, Any]
) -> None:
    # The router acknowledges the connection either way and refuses each subscription.
    messages = await refusal(client, payload, str(uuid.uuid4()))
    assert_next_then_complete(messages, "UNAUTHENTICATED")


async def test_an_invalid_document_is_next_with_bad_user_input_then_complete(
    client: Client,
) -> None:
    token = await client.login("customer@example.com")
    query = "subscription($id: ID!) { paymentUpdated(id: $id) { noSuchField } }"
    messages = await refusal(client, {"Authorization": f"Bearer {token}"}, str(uuid.uuid4()), query)
    assert_next_then_complete(messages, "BAD_USER_INPUT")
