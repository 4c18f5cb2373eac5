"""Helpers for subgraph tests: calling an app in-process as the router would (signed) or as a
stranger, test tokens and callers, and a SQL statement counter."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event, make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from shared import router_signature
from shared.config import Settings
from shared.db import async_url
from shared.scopes import Role, scopes_for
from shared.tokens import SigningKeys, TokenVerifier

ROUTER_SECRET = "test-router-secret"


@asynccontextmanager
async def app_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client bound to the app in-process, with its lifespan running."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://subgraph") as client:
            yield client


def gql_body(
    query: str, variables: dict[str, Any] | None = None, *, signed: bool = True
) -> dict[str, Any]:
    body: dict[str, Any] = {"query": query}
    if variables:
        body["variables"] = variables
    if signed:
        body["extensions"] = {
            router_signature.SIGNATURE_EXTENSION: router_signature.sign(
                ROUTER_SECRET, query, variables
            )
        }
    return body


async def gql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    signed: bool = True,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """POST a GraphQL operation; returns the JSON body (errors included, never raises on them)."""
    all_headers = dict(headers or {})
    if token:
        all_headers["authorization"] = f"Bearer {token}"
    response = await client.post(
        "/graphql", json=gql_body(query, variables, signed=signed), headers=all_headers
    )
    result: dict[str, Any] = response.json()
    return result


def error_codes(result: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in result.get("errors") or []]


def verifier_factory(keys: SigningKeys) -> Callable[[Settings], TokenVerifier]:
    """A verifier that reads the test key set instead of fetching auth's JWKS."""

    def make(settings: Settings) -> TokenVerifier:
        async def fetch() -> dict[str, Any]:
            return keys.jwks

        return TokenVerifier(
            issuer=settings.jwt_issuer, audience=settings.jwt_audience, fetch_jwks=fetch
        )

    return make


@dataclass(frozen=True)
class Caller:
    """A user with a signed access token (the user need not exist in auth for these tests)."""

    id: uuid.UUID
    role: Role
    token: str


def make_caller(
    keys: SigningKeys,
    settings: Settings,
    role: Role,
    *,
    user_id: uuid.UUID | None = None,
    scopes: frozenset[str] | None = None,
) -> Caller:
    user_id = user_id or uuid.uuid4()
    token, _ = keys.issue(
        user_id=str(user_id),
        email=f"{role.value.lower()}-{user_id.hex[:8]}@example.com",
        role=role.value,
        scopes=scopes_for(role) if scopes is None else scopes,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl_seconds=900,
        session_id=uuid.uuid4().hex,
    )
    return Caller(id=user_id, role=role, token=token)


@dataclass
class StatementCounter:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)


@contextmanager
def count_statements(
    engine: AsyncEngine, *, ignore: Callable[[str], bool] = lambda _: False
) -> Iterator[StatementCounter]:
    """Count the SQL statements the engine sends while the block runs, less the ignored ones and
    those of the app's background tasks sharing the engine (outbox relays, consumers, pollers:
    every one is a task with a name of its own, while requests run in unnamed "Task-N" tasks);
    on a loaded machine a relay's poll lands inside the block now and then."""
    counter = StatementCounter()

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        task = asyncio.current_task()
        if task is not None and not task.get_name().startswith("Task-"):
            return
        if not ignore(statement):
            counter.statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    try:
        yield counter
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before)


@dataclass
class Subgraph:
    """An in-process subgraph app and its client."""

    client: httpx.AsyncClient
    engine: AsyncEngine
    settings: Settings
    keys: SigningKeys

    def caller(self, role: Role, **kw: Any) -> Caller:
        return make_caller(self.keys, self.settings, role, **kw)

    async def gql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        as_: Caller | None = None,
        signed: bool = True,
    ) -> dict[str, Any]:
        return await gql(
            self.client, query, variables, token=as_.token if as_ else None, signed=signed
        )

    async def ok(
        self, query: str, variables: dict[str, Any] | None = None, *, as_: Caller | None = None
    ) -> Any:
        result = await self.gql(query, variables, as_=as_)
        assert "errors" not in result, result
        return result["data"]


# Generous: a condition that holds at all holds long before this on a loaded machine.
WAIT_SECONDS = 30.0


async def wait_until(
    condition: Callable[[], Awaitable[bool]],
    timeout: float = WAIT_SECONDS,
    message: str = "the condition did not hold in time",
) -> None:
    """Poll `condition` until it holds (a condition, never a fixed pause); fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(message)
        await asyncio.sleep(0.02)


def database_url(server_url: str, name: str) -> str:
    """The URL of database `name` on the server of `server_url`."""
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


async def _admin(server_url: str, statement: str) -> None:
    admin = create_async_engine(
        async_url(server_url), poolclass=NullPool, isolation_level="AUTOCOMMIT"
    )
    try:
        async with admin.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await admin.dispose()


async def create_database(server_url: str, name: str) -> None:
    await _admin(server_url, f'CREATE DATABASE "{name}"')


async def drop_database(server_url: str, name: str) -> None:
    await _admin(server_url, f'DROP DATABASE "{name}" WITH (FORCE)')


@asynccontextmanager
async def scratch_database(server_url: str, prefix: str = "scratch") -> AsyncIterator[str]:
    """A database of its own on the test server (URL yielded), dropped afterwards: for tests
    whose relays, seeds or migrations must not meet the shared database's rows."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    await create_database(server_url, name)
    try:
        yield database_url(server_url, name)
    finally:
        await drop_database(server_url, name)
