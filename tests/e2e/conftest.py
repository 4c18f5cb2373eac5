"""The whole system for end-to-end tests: the real router and the four subgraphs as processes,
on free ports, over the session's embedded PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from devtools.devstack import DEFAULT_PORTS, DevStack, free_port
from shared import router_signature
from subgraphs.auth.seed import seed
from tests.conftest import Infra

SEED_PASSWORD = "Seed-Password-For-Tests-1"
ROUTER_SECRET = "e2e-router-secret"
RATE_LIMIT_PER_IP = "10000"  # every e2e call comes from 127.0.0.1
API_RATE_LIMIT = "100000"  # the router's per-IP limit: the e2e tests share one address


@pytest.fixture(scope="session")
def stack(infra: Infra) -> Iterator[DevStack]:
    ports = {name: free_port() for name in DEFAULT_PORTS}
    stack = DevStack(
        app_env="test",
        data_dir=infra.data_dir / "stack",
        ports=ports,
        database_url=infra.database_url,
        redis_url=infra.redis_url,
        log_to_files=True,
        base_env={
            **os.environ,
            "ROUTER_HMAC_SECRET": ROUTER_SECRET,
            "LOG_LEVEL": "WARNING",
            "AUTH_RATE_LIMIT_PER_IP": RATE_LIMIT_PER_IP,
            "API_RATE_LIMIT_PER_MINUTE": API_RATE_LIMIT,
        },
    )
    try:
        stack.prepare()
        asyncio.run(seed(infra.database_url, SEED_PASSWORD, "test"))
        stack.start()
        yield stack
    finally:
        stack.stop()


@dataclass
class Client:
    """Calls the system as an MFE would (through the router) or a subgraph directly."""

    stack: DevStack
    http: httpx.AsyncClient

    async def gql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        target: str = "router",
        signed: bool = True,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"query": query}
        if variables:
            body["variables"] = variables
        if target != "router" and signed:
            body["extensions"] = {
                router_signature.SIGNATURE_EXTENSION: router_signature.sign(
                    ROUTER_SECRET, query, variables
                )
            }
        headers = {"authorization": f"Bearer {token}"} if token else {}
        response = await self.http.post(self.stack.url(target), json=body, headers=headers)
        result: dict[str, Any] = response.json()
        return result

    async def login(self, email: str, password: str = SEED_PASSWORD) -> str:
        result = await self.gql(
            "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
            {"i": {"email": email, "password": password}},
        )
        assert "errors" not in result, result
        token: str = result["data"]["login"]["accessToken"]
        return token


@pytest.fixture
async def client(stack: DevStack) -> AsyncIterator[Client]:
    async with httpx.AsyncClient(timeout=20.0) as http:
        yield Client(stack, http)
