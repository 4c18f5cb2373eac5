"""Counterparties through the router: a payment names a VENDOR as payee and a CUSTOMER as payer;
any other id is one BAD_USER_INPUT with `field`, and nothing about that user comes back."""

from __future__ import annotations

import uuid
from typing import Any

from tests.e2e.conftest import Client

CREATE = """mutation($i: CreatePaymentInput!) {
  createPayment(input: $i) { id type payer { id } payee { id email } } }"""


async def my_id(client: Client, token: str) -> str:
    result = await client.gql("{ me { id } }", token=token)
    assert "errors" not in result, result
    user_id: str = result["data"]["me"]["id"]
    return user_id


async def another_customer(client: Client) -> str:
    email = f"cp-{uuid.uuid4().hex[:10]}@example.com"
    result = await client.gql(
        "mutation($i: RegisterInput!) { register(input: $i) { user { id } } }",
        {"i": {"email": email, "password": "Another-Customer-Pw-1", "name": "Other"}},
    )
    assert "errors" not in result, result
    user_id: str = result["data"]["register"]["user"]["id"]
    return user_id


def refusal(result: dict[str, Any], field: str) -> str:
    assert result.get("data") is None, result
    [error] = result["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["extensions"]["field"] == field, error
    message: str = error["message"]
    return message


async def test_payees_must_be_vendors_and_payers_customers(client: Client) -> None:
    customer = await client.login("customer@example.com")
    vendor = await client.login("vendor@example.com")
    admin = await client.login("admin@example.com")
    ids = {
        name: await my_id(client, t)
        for name, t in [("customer", customer), ("vendor", vendor), ("admin", admin)]
    }
    ids["other customer"] = await another_customer(client)
    ids["unknown"] = str(uuid.uuid4())

    # The finding: any user id as payee returned that user's e-mail (here the admin's).
    messages = set()
    for name in ("admin", "other customer", "unknown"):
        result = await client.gql(
            CREATE, {"i": {"amount": "10.00", "payeeId": ids[name]}}, token=customer
        )
        messages.add(refusal(result, "payeeId"))
        assert "admin@example.com" not in str(result)
    for name in ("admin", "unknown"):
        result = await client.gql(
            CREATE, {"i": {"amount": "10.00", "payerId": ids[name]}}, token=vendor
        )
        messages.add(refusal(result, "payerId"))
        assert "@example.com" not in str(result)
    assert len(messages) == 1  # one message, whatever the reason

    paid = await client.gql(
        CREATE, {"i": {"amount": "10.00", "payeeId": ids["vendor"]}}, token=customer
    )
    assert "errors" not in paid, paid
    assert paid["data"]["createPayment"]["payee"]["id"] == ids["vendor"]
    asked = await client.gql(
        CREATE, {"i": {"amount": "10.00", "payerId": ids["customer"]}}, token=vendor
    )
    assert "errors" not in asked, asked
    assert asked["data"]["createPayment"]["type"] == "INITIATE"
    assert asked["data"]["createPayment"]["payer"]["id"] == ids["customer"]
