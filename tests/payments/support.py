"""Helpers for subgraph tests outside auth: test tokens, callers, a SQL statement counter."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.config import Settings
from shared.scopes import Role, scopes_for
from shared.tokens import SigningKeys, TokenVerifier
from tests.helpers import gql


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
def count_statements(engine: AsyncEngine) -> Iterator[StatementCounter]:
    """Count the SQL statements the engine sends while the block runs."""
    counter = StatementCounter()

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
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
