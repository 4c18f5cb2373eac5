"""An ADMIN manages an account across every service, through the router: events carry the
consequences to profile (the avatar removed), payments and the audit trail."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from tests.e2e.conftest import Client
from tests.e2e.test_avatars import png, post_upload
from tests.helpers import WAIT_SECONDS, wait_until


def codes(result: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in result.get("errors") or []]


async def ok(client: Client, query: str, variables: dict[str, Any], token: str) -> Any:
    result = await client.gql(query, variables, token=token)
    assert "errors" not in result, result
    return result["data"]


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = WAIT_SECONDS) -> None:
    await wait_until(check, seconds)


async def test_create_use_delete_an_account(client: Client) -> None:
    admin = await client.login("admin@example.com")
    email = f"managed-{uuid.uuid4().hex[:10]}@example.com"
    password = "Managed-account-passphrase-1"
    created = await ok(
        client,
        "mutation($i: CreateUserInput!) { createUser(input: $i) { id email role } }",
        {"i": {"email": email, "name": "Managed Person", "role": "CUSTOMER", "password": password}},
        admin,
    )
    user_id = created["createUser"]["id"]
    user = await client.login(email, password)

    payment = await ok(
        client,
        'mutation { createPayment(input: {amount: "120.00", currency: "INR"}) { id status } }',
        {},
        user,
    )
    payment_id = payment["createPayment"]["id"]
    assert payment["createPayment"]["status"] == "PENDING"
    uploaded = (await post_upload(client, user, png())).json()
    avatar = client.stack.url("router", uploaded["data"]["uploadAvatar"]["avatarUrl"])
    assert (await client.http.get(avatar)).status_code == 200

    deleted = await ok(client, "mutation($id: ID!) { deleteUser(id: $id) }", {"id": user_id}, admin)
    assert deleted["deleteUser"] is True

    # Outstanding access tokens are refused at once, through the router and directly.
    for target in ("router", "payments"):
        refused = await client.gql(
            "{ me { id } }" if target == "router" else "{ payments { totalCount } }",
            token=user,
            target=target,
        )
        assert codes(refused) == ["UNAUTHENTICATED"], (target, refused)
    login = await client.gql(
        "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
        {"i": {"email": email, "password": password}},
    )
    assert codes(login) == ["UNAUTHENTICATED"]

    # admin:user:deleted reaches payments, which cancels the user's open payment.
    async def cancelled() -> bool:
        seen = await ok(
            client, "query($id: ID!) { payment(id: $id) { status } }", {"id": payment_id}, admin
        )
        return bool(seen["payment"]["status"] == "CANCELLED")

    await eventually(cancelled)

    # ... and profile, which removes their avatar: its URL no longer serves the picture.
    async def avatar_gone() -> bool:
        return (await client.http.get(avatar)).status_code == 404

    await eventually(avatar_gone)

    # Every step is in the audit trail.
    async def audited() -> bool:
        logs = await ok(
            client,
            "query($f: AuditLogFilter) { auditLogs(filter: $f) { edges { node { action } } } }",
            {"f": {"userId": user_id}},
            admin,
        )
        actions = {edge["node"]["action"] for edge in logs["auditLogs"]["edges"]}
        return {"admin:user:created", "admin:user:deleted", "payments:payment:created"} <= actions

    await eventually(audited)


async def test_a_deleted_vendors_payments_stay_in_the_payers_list(client: Client) -> None:
    """createdBy is User!: a deleted creator resolves to a placeholder, so the payer's list
    stays whole (before, auth answered null and the whole list came back as data: null)."""
    admin = await client.login("admin@example.com")
    password = "Deleted-vendor-passphrase-1"

    async def account(role: str, name: str) -> tuple[str, str]:
        email = f"gone-{role.lower()}-{uuid.uuid4().hex[:10]}@example.com"
        created = await ok(
            client,
            "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }",
            {"i": {"email": email, "name": name, "role": role, "password": password}},
            admin,
        )
        return created["createUser"]["id"], await client.login(email, password)

    vendor_id, vendor = await account("VENDOR", "Vanishing Vendor")
    payer_id, payer = await account("CUSTOMER", "Staying Customer")
    initiated = await ok(
        client,
        "mutation($i: CreatePaymentInput!) { createPayment(input: $i) { id } }",
        {"i": {"amount": "150.00", "currency": "INR", "payerId": payer_id}},
        vendor,
    )
    payment_id = initiated["createPayment"]["id"]
    assert (
        await ok(client, "mutation($id: ID!) { deleteUser(id: $id) }", {"id": vendor_id}, admin)
    )["deleteUser"] is True

    listed = await ok(
        client,
        "{ payments { edges { node { id createdBy { id name email role deleted profile { bio } } "
        "payer { id name deleted } } } } }",
        {},
        payer,
    )
    [edge] = listed["payments"]["edges"]
    assert edge["node"] == {
        "id": payment_id,
        "createdBy": {
            "id": vendor_id,
            "name": "Deleted user",
            "email": "",
            "role": "VENDOR",
            "deleted": True,
            "profile": None,
        },
        "payer": {"id": payer_id, "name": "Staying Customer", "deleted": False},
    }
