"""Every process writes one JSON shape, and a traced request's lines carry its trace id: the
access-log line of the router and of each subgraph the request reached."""

from __future__ import annotations

import asyncio
import json
import secrets
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Client
from tests.telemetry.conftest import TracedStack

pytestmark = pytest.mark.e2e

KEYS = {"timestamp", "level", "service", "message", "request_id", "trace_id", "span_id"}


def lines(path: Path) -> list[dict[str, Any]]:
    """The JSON lines of a process's log (the gateway CLI's own first lines, written before it
    reads its configuration, are in Hive's shape: they have no `service`)."""
    parsed = []
    for raw in path.read_text(errors="replace").splitlines():
        if raw.startswith("{"):
            entry = json.loads(raw)
            if "service" in entry or path.stem != "router":
                parsed.append(entry)
    return parsed


async def test_access_lines_are_json_with_request_and_trace_ids(
    client: Client, traced: TracedStack
) -> None:
    token = await client.login("customer@example.com")
    trace_id = secrets.token_hex(16)
    request_id = f"logs-{secrets.token_hex(6)}"
    response = await client.http.post(
        client.stack.url("router") + "?probe=secret-query-value",
        json={"query": "query MeAndProfile { me { id profile { bio } } }"},
        headers={
            "authorization": f"Bearer {token}",
            "traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01",
            "x-request-id": request_id,
        },
    )
    assert response.status_code == 200, response.text
    logs = traced.stack.data_dir / "logs"

    def access(service: str) -> list[dict[str, Any]]:
        return [
            e
            for e in lines(logs / f"{service}.log")
            if e.get("message") == "request"
            and e.get("trace_id") == trace_id
            and e.get("method") == "POST"  # not the JWKS fetch a subgraph may make meanwhile
        ]

    async def written() -> bool:
        return all(access(s) for s in ("router", "auth", "profile"))

    deadline = asyncio.get_running_loop().time() + 30
    while not await written():
        assert asyncio.get_running_loop().time() < deadline, "access lines never written"
        await asyncio.sleep(0.05)

    for service in ("router", "auth", "profile"):
        [line] = access(service)
        assert line.keys() >= KEYS, (service, line)
        assert line["request_id"] == request_id  # the router passes the client's id on
        assert line["path"] == "/graphql"  # no query string
        assert line["status"] == 200
        assert isinstance(line["duration_ms"], int | float)
        assert line["operation_name"] == "MeAndProfile"
        assert len(line["span_id"]) == 16
    # One shape in every process's log, and nothing secret in any line.
    for path in logs.glob("*.log"):
        if path.stem == "simulator":
            continue  # development tool, not a product process
        text = path.read_text(errors="replace")
        assert token not in text, path.name
        assert "secret-query-value" not in text, path.name
        for entry in lines(path):
            assert entry.keys() >= KEYS, (path.name, entry)
