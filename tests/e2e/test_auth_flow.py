"""An MFE's auth journey through the router, mails read from the development SMTP sink."""

from __future__ import annotations

import re
import uuid
from typing import Any

from devtools.mailsink import read_messages
from tests.e2e.conftest import Client
from tests.helpers import WAIT_SECONDS

PAYLOAD = "accessToken refreshToken expiresIn user { id email role emailVerified }"


def codes(result: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in result.get("errors") or []]


def mail_token(client: Client, to: str, path: str) -> str:
    for message in reversed(read_messages(client.stack.mail_dir)):
        if message["To"] == to:
            body = message.get_body(preferencelist=("plain",))
            assert body is not None
            match = re.search(rf"{path}\?token=([\w\-]+)", body.get_content())
            if match:
                return match.group(1)
    raise AssertionError(f"no {path} mail for {to}")


async def wait_for_mail(client: Client, to: str, path: str) -> str:
    import asyncio
    import time

    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        try:
            return mail_token(client, to, path)
        except AssertionError:
            await asyncio.sleep(0.1)
    return mail_token(client, to, path)


async def test_register_login_refresh_logout(client: Client) -> None:
    email = f"mfe-{uuid.uuid4().hex[:10]}@example.com"
    password = "A-long-enough-passphrase-42"
    registered = await client.gql(
        f"mutation($i: RegisterInput!) {{ register(input: $i) {{ {PAYLOAD} }} }}",
        {"i": {"email": email, "password": password, "name": "Mia Front"}},
    )
    assert "errors" not in registered, registered
    payload = registered["data"]["register"]
    assert payload["user"]["role"] == "CUSTOMER"
    assert payload["user"]["emailVerified"] is False
    assert payload["expiresIn"] == 900

    again = await client.gql(
        "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }",
        {"i": {"email": email.upper(), "password": password, "name": "Twin"}},
    )
    assert codes(again) == ["CONFLICT"]

    admin = await client.gql(
        "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }",
        {"i": {"email": f"x{email}", "password": password, "name": "Eve", "role": "ADMIN"}},
    )
    assert codes(admin) == ["FORBIDDEN"]

    verify_token = await wait_for_mail(client, email, "verify-email")
    verified = await client.gql(
        "mutation($t: String!) { verifyEmail(token: $t) }", {"t": verify_token}
    )
    assert verified["data"]["verifyEmail"] is True

    wrong = await client.gql(
        "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
        {"i": {"email": email, "password": "wrong-password-123"}},
    )
    unknown = await client.gql(
        "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
        {"i": {"email": f"nobody-{email}", "password": "wrong-password-123"}},
    )
    assert codes(wrong) == codes(unknown) == ["UNAUTHENTICATED"]
    assert wrong["errors"][0]["message"] == unknown["errors"][0]["message"]

    login = await client.gql(
        f"mutation($i: LoginInput!) {{ login(input: $i) {{ {PAYLOAD} }} }}",
        {"i": {"email": email, "password": password}},
    )
    session = login["data"]["login"]
    assert session["user"]["emailVerified"] is True
    me = await client.gql("{ me { email } }", token=session["accessToken"])
    assert me["data"]["me"]["email"] == email

    rotated = await client.gql(
        f"mutation($r: String!) {{ refreshToken(refreshToken: $r) {{ {PAYLOAD} }} }}",
        {"r": session["refreshToken"]},
    )
    fresh = rotated["data"]["refreshToken"]
    assert fresh["refreshToken"] != session["refreshToken"]

    # Reusing the rotated token revokes the family: the fresh tokens die too.
    reused = await client.gql(
        "mutation($r: String!) { refreshToken(refreshToken: $r) { accessToken } }",
        {"r": session["refreshToken"]},
    )
    assert codes(reused) == ["UNAUTHENTICATED"]
    dead = await client.gql(
        "mutation($r: String!) { refreshToken(refreshToken: $r) { accessToken } }",
        {"r": fresh["refreshToken"]},
    )
    assert codes(dead) == ["UNAUTHENTICATED"]
    after = await client.gql("{ me { email } }", token=fresh["accessToken"])
    assert codes(after) == ["UNAUTHENTICATED"]

    second = await client.gql(
        f"mutation($i: LoginInput!) {{ login(input: $i) {{ {PAYLOAD} }} }}",
        {"i": {"email": email, "password": password}},
    )
    tokens = second["data"]["login"]
    out = await client.gql(
        "mutation($r: String!) { logout(refreshToken: $r) }",
        {"r": tokens["refreshToken"]},
        token=tokens["accessToken"],
    )
    assert out["data"]["logout"] is True
    gone = await client.gql("{ me { email } }", token=tokens["accessToken"])
    assert codes(gone) == ["UNAUTHENTICATED"]


async def test_password_reset_through_the_router(client: Client) -> None:
    email = f"reset-{uuid.uuid4().hex[:10]}@example.com"
    password = "Original-passphrase-2024"
    await client.gql(
        "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }",
        {"i": {"email": email, "password": password, "name": "Ravi"}},
    )
    for who in (email, f"ghost-{email}"):
        asked = await client.gql(
            "mutation($e: String!) { requestPasswordReset(email: $e) }", {"e": who}
        )
        assert asked["data"]["requestPasswordReset"] is True
    token = await wait_for_mail(client, email, "reset-password")
    new_password = "Brand-new-passphrase-77"
    reset = await client.gql(
        "mutation($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) }",
        {"t": token, "p": new_password},
    )
    assert reset["data"]["resetPassword"] is True
    replay = await client.gql(
        "mutation($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) }",
        {"t": token, "p": "Yet-another-passphrase-9"},
    )
    assert codes(replay) == ["BAD_USER_INPUT"]
    assert replay["errors"][0]["extensions"]["field"] == "token"
    assert await client.login(email, new_password)


async def test_jwks_and_health(client: Client) -> None:
    jwks = (await client.http.get(client.stack.url("auth", "/.well-known/jwks.json"))).json()
    assert jwks["keys"][0]["kty"] == "RSA"
    assert jwks["keys"][0]["kid"]
    for service in ("auth", "payments", "admin", "profile"):
        for path in ("/healthz", "/readyz"):
            response = await client.http.get(client.stack.url(service, path))
            assert response.status_code == 200, (service, path)
        metrics = await client.http.get(client.stack.url(service, "/metrics"))
        assert "http_requests_total" in metrics.text
    for path in ("/healthcheck", "/readiness"):
        response = await client.http.get(client.stack.url("router", path))
        assert response.status_code == 200


async def test_request_id_travels(client: Client) -> None:
    response = await client.http.post(
        client.stack.url("router"),
        json={"query": "{ __typename }"},
        headers={"x-request-id": "mfe-req-12345"},
    )
    assert response.status_code == 200
    assert response.headers.get("x-request-id") == "mfe-req-12345"
