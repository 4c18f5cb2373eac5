"""Helpers for the auth tests: the in-process app with its runtime, GraphQL documents, mail."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
from argon2 import PasswordHasher
from fastapi import FastAPI

from devtools.mailsink import read_messages
from shared.config import AuthSettings
from subgraphs.auth.app import create_app
from subgraphs.auth.context import AuthDeps
from subgraphs.auth.mfa_crypto import generate_key
from subgraphs.auth.passwords import Passwords
from subgraphs.auth.runtime import AuthRuntime
from tests.helpers import ROUTER_SECRET, app_client, error_codes, gql

PASSWORD = "Correct-Horse-Battery-9"
TEST_TOTP_KEY = generate_key()  # TOTP_ENCRYPTION_KEY of the test apps (one per test session)

USER_FIELDS = "id email name role emailVerified createdAt"
PAYLOAD = f"accessToken refreshToken expiresIn user {{ {USER_FIELDS} }}"
REGISTER = f"""mutation Register($input: RegisterInput!) {{
  register(input: $input) {{ {PAYLOAD} }} }}"""
LOGIN = f"""mutation Login($input: LoginInput!) {{ login(input: $input) {{ {PAYLOAD} }} }}"""
REFRESH = f"""mutation Refresh($t: String!) {{ refreshToken(refreshToken: $t) {{ {PAYLOAD} }} }}"""
LOGOUT = "mutation Logout($t: String!) { logout(refreshToken: $t) }"
ME = f"query Me {{ me {{ {USER_FIELDS} }} }}"
CHANGE_PASSWORD = """mutation Change($c: String!, $n: String!) {
  changePassword(currentPassword: $c, newPassword: $n) }"""
REQUEST_RESET = "mutation RequestReset($e: String!) { requestPasswordReset(email: $e) }"
RESET = "mutation Reset($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) }"
VERIFY = "mutation Verify($t: String!) { verifyEmail(token: $t) }"
ENTITIES = """query Entities($r: [_Any!]!) {
  _entities(representations: $r) { ... on User { id email name role emailVerified } } }"""


def fast_passwords() -> Passwords:
    """Cheap argon2id parameters so that the suite stays fast (production uses the defaults)."""
    return Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def auth_settings(
    *, database_url: str, redis_url: str, private_pem: bytes, **overrides: Any
) -> AuthSettings:
    values: dict[str, Any] = {
        "app_env": "test",
        "database_url": database_url,
        "redis_url": redis_url,
        "router_hmac_secret": ROUTER_SECRET,
        "jwt_private_key": private_pem.decode(),
        "totp_encryption_key": TEST_TOTP_KEY,
        "smtp_host": "127.0.0.1",
        "public_app_url": "http://app.test",
        "log_json": False,
        "log_level": "WARNING",
        "auth_rate_limit_per_ip": 100_000,
        "auth_rate_limit_per_account": 1_000,
        **overrides,
    }
    return AuthSettings(**values)


@dataclass
class AuthHarness:
    app: FastAPI
    client: httpx.AsyncClient
    runtime: AuthRuntime
    mail_dir: Path

    @property
    def settings(self) -> AuthSettings:
        return self.runtime.settings

    async def gql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        ip: str | None = None,
        signed: bool = True,
    ) -> dict[str, Any]:
        headers = {"x-forwarded-for": ip} if ip else None
        return await gql(self.client, query, variables, token=token, signed=signed, headers=headers)

    async def ok(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
        result = await self.gql(query, variables, **kw)
        assert "errors" not in result, result
        return result["data"]

    async def register(
        self,
        email: str,
        password: str = PASSWORD,
        name: str = "Test User",
        *,
        ip: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        data = await self.ok(
            REGISTER,
            {"input": {"email": email, "password": password, "name": name, **extra}},
            ip=ip,
        )
        payload: dict[str, Any] = data["register"]
        return payload

    async def login(self, email: str, password: str = PASSWORD, **kw: Any) -> dict[str, Any]:
        data = await self.ok(LOGIN, {"input": {"email": email, "password": password}}, **kw)
        payload: dict[str, Any] = data["login"]
        return payload

    async def mail_to(
        self, address: str, subject: str, *, count: int = 1, timeout: float = 10.0
    ) -> EmailMessage:
        """The newest message to `address` with `subject`, once at least `count` have arrived."""
        deadline = time.monotonic() + timeout
        while True:
            found = [
                m
                for m in read_messages(self.mail_dir)
                if m["To"] == address and m["Subject"] == subject
            ]
            if len(found) >= count:
                return found[-1]
            if time.monotonic() > deadline:
                raise AssertionError(f"no mail {subject!r} to {address}")
            await asyncio.sleep(0.05)

    async def token_from_mail(
        self, address: str, subject: str, path: str, *, count: int = 1
    ) -> str:
        message = await self.mail_to(address, subject, count=count)
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        text = body.get_content()
        match = re.search(rf"http://app\.test/{path}\?token=([A-Za-z0-9_\-%]+)", text)
        assert match, text
        return match.group(1)


@asynccontextmanager
async def running_harness(settings: AuthSettings, mail_dir: Path) -> AsyncIterator[AuthHarness]:
    runtime = AuthRuntime.create(settings, passwords=fast_passwords())
    app = create_app(settings, deps=AuthDeps(runtime=runtime))
    async with app_client(app) as client:
        yield AuthHarness(app=app, client=client, runtime=runtime, mail_dir=mail_dir)


def new_ip() -> str:
    raw = uuid.uuid4().bytes
    return f"10.{raw[0]}.{raw[1]}.{raw[2]}"


def codes(result: dict[str, Any]) -> list[str]:
    return error_codes(result)
