"""GraphiQL (the gateway's Hive Laboratory) outside production opens on an example operation
with the headers to fill in (`router/src/graphiql.ts`); production serves no GraphiQL."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import build_schema, parse, validate

from devtools.devstack import DevStack
from tests.e2e.routers import router_process

SUPERGRAPH = Path(__file__).resolve().parents[2] / "schema" / "supergraph.graphql"
HTML = {"accept": "text/html"}
PRODUCTION_SECRET = "a-production-router-secret-of-40-characters!"


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=60.0) as client:
        yield client


def seeded(html: str, key: str) -> Any:
    """The value the page's seed script stores under `hive-laboratory:<key>`."""
    match = re.search(rf"setItem\(prefix \+ '{key}', JSON\.stringify\((.*?)\)\);", html)
    assert match, f"no seed for {key}"
    return json.loads(match.group(1))


async def test_graphiql_opens_on_an_example_operation_with_the_headers_to_fill_in(
    stack: DevStack, http: httpx.AsyncClient
) -> None:
    response = await http.get(stack.url("router"), headers=HTML)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    # Seeded only into an empty Laboratory: a user's own operations are never overwritten.
    assert "if (localStorage.getItem(prefix + 'operations') !== null) return;" in html

    [operation] = seeded(html, "operations")
    [tab] = seeded(html, "tabs")
    assert tab == {
        "id": seeded(html, "activeTabId"),
        "type": "operation",
        "data": {"id": operation["id"], "name": operation["name"]},
    }
    assert json.loads(operation["headers"]) == {"Authorization": "Bearer <accessToken>"}
    variables = json.loads(operation["variables"])
    assert variables["email"] == "customer@example.com"

    # The example is valid against the committed supergraph (it breaks here, not for a user).
    document = parse(operation["query"])
    assert validate(build_schema(SUPERGRAPH.read_text()), document) == []
    names = [d.name.value for d in document.definitions if getattr(d, "name", None)]
    assert names[0] == operation["name"] == "Login"
    assert {"Me", "MyPayments", "PaymentUpdated"} <= set(names)


async def test_production_serves_no_graphiql(stack: DevStack, http: httpx.AsyncClient) -> None:
    overrides = {
        "APP_ENV": "production",
        "ROUTER_HMAC_SECRET": PRODUCTION_SECRET,
        "CORS_ORIGINS": "",
    }
    with router_process(stack, "graphiql-production", overrides) as router:
        response = await http.get(router.url(), headers=HTML)
    assert not response.headers.get("content-type", "").startswith("text/html"), response.text
    assert "hive-laboratory" not in response.text
