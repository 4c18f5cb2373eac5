"""The error extensions docs/errors.md promises, measured through the router: a subgraph's error
keeps its code and gains `serviceName` (the subgraph that raised it); the router's own errors
carry none; `field` names the input field of a BAD_USER_INPUT."""

from __future__ import annotations

import uuid

from tests.e2e.conftest import Client


async def test_a_subgraph_error_names_its_service(client: Client) -> None:
    token = await client.login("customer@example.com")
    result = await client.gql(
        "query($id: ID!) { payment(id: $id) { id } }", {"id": str(uuid.uuid4())}, token=token
    )
    [error] = result["errors"]
    assert error["extensions"] == {"code": "NOT_FOUND", "serviceName": "payments"}


async def test_bad_user_input_names_the_field(client: Client) -> None:
    token = await client.login("customer@example.com")
    result = await client.gql(
        "mutation($i: CreatePaymentInput!) { createPayment(input: $i) { id } }",
        {"i": {"amount": "-1.00", "currency": "INR"}},
        token=token,
    )
    [error] = result["errors"]
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "field": "amount",
        "serviceName": "payments",
    }


async def test_the_routers_own_refusal_names_no_service(client: Client) -> None:
    result = await client.gql("{ me { id } }")
    [error] = result["errors"]
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
