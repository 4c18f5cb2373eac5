"""One trace from the client through the router, two subgraphs and PostgreSQL; and the webhook
whose payment change is pushed to a subscriber in a span linked to the webhook's trace."""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any

import pytest
import websockets

from tests.e2e.conftest import Client
from tests.telemetry.conftest import TracedStack
from tests.telemetry.receiver import ReceivedSpan

pytestmark = pytest.mark.e2e

SERVER = 2  # SpanKind.SPAN_KIND_SERVER in OTLP


def traceparent() -> tuple[str, str, str]:
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return f"00-{trace_id}-{span_id}-01", trace_id, span_id


async def post(client: Client, body: dict[str, Any], **headers: str) -> dict[str, Any]:
    response = await client.http.post(client.stack.url("router"), json=body, headers=headers)
    result: dict[str, Any] = response.json()
    assert "errors" not in result, result
    return result


def services(spans: list[ReceivedSpan]) -> set[str]:
    return {s.service for s in spans}


async def test_one_trace_holds_router_two_subgraphs_and_postgresql(
    client: Client, traced: TracedStack
) -> None:
    token = await client.login("customer@example.com")
    header, trace_id, client_span = traceparent()

    result = await post(
        client,
        {"query": "query MeAndProfile { me { id email profile { bio } } }"},
        authorization=f"Bearer {token}",
        traceparent=header,
    )
    assert result["data"]["me"]["email"] == "customer@example.com"

    def complete(spans: list[ReceivedSpan]) -> bool:
        mine = [s for s in spans if s.trace_id == trace_id]
        return {"bff-router", "bff-auth", "bff-profile"} <= services(mine) and any(
            s.attributes.get("db.system") == "postgresql" for s in mine
        )

    await asyncio.to_thread(traced.receiver.wait_for, complete)
    spans = traced.receiver.trace(trace_id)
    by_id = {s.span_id: s for s in spans}
    # The router continued the client's trace: its first span is the client span's child.
    roots = [s for s in spans if s.parent_span_id not in by_id]
    assert {(s.service, s.parent_span_id) for s in roots} == {("bff-router", client_span)}
    # Each subgraph's server span is a child of a router span; its operation and resolver spans
    # and SQL nest below it.
    for service in ("bff-auth", "bff-profile"):
        server = [s for s in spans if s.service == service and s.kind == SERVER and "POST" in s.name]
        assert server, service
        assert all(by_id[s.parent_span_id].service == "bff-router" for s in server)
    names = {(s.service, s.name) for s in spans}
    assert ("bff-auth", "query MeAndProfile") in names
    assert ("bff-auth", "resolve Query.me") in names
    sql = [s for s in spans if s.attributes.get("db.system") == "postgresql"]
    assert {s.service for s in sql} >= {"bff-auth", "bff-profile"}
    # Nothing secret in span attributes: no token, no argument values.
    assert not any(token in json.dumps(s.attributes, default=str) for s in spans)
    print("\nTRACE", trace_id)  # noqa: T201 - the closing note quotes one real trace
    for s in sorted(spans, key=lambda s: (s.service, s.name)):
        print(f"  {s.service:12} {s.name}")  # noqa: T201
