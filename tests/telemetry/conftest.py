"""A whole stack exporting traces: the router, the four subgraphs, the webhook sidecar and the
Razorpay simulator as processes (like `tests/e2e`), with `OTEL_EXPORTER_OTLP_ENDPOINT` pointing
at an in-process OTLP/HTTP receiver, and INFO logs in files (the access-log lines)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest

from devtools.devstack import DEFAULT_PORTS, DevStack, free_port
from subgraphs.auth.seed import seed
from tests.conftest import Infra
from tests.e2e.conftest import (
    API_RATE_LIMIT,
    PORT_TAKEN,
    RATE_LIMIT_PER_IP,
    ROUTER_SECRET,
    SEED_PASSWORD,
    START_ATTEMPTS,
    Client,
    own_database,
)
from tests.telemetry.receiver import Receiver, otlp_receiver


@dataclass
class TracedStack:
    stack: DevStack
    receiver: Receiver


def _start(infra: Infra, database_url: str, receiver: Receiver) -> DevStack:
    seeded = False
    for attempt in range(1, START_ATTEMPTS + 1):
        stack = DevStack(
            app_env="test",
            data_dir=infra.data_dir / f"traced-{attempt}",
            ports={name: free_port() for name in DEFAULT_PORTS},
            database_url=database_url,
            redis_url=None,
            log_to_files=True,
            base_env={
                **{
                    k: v
                    for k, v in os.environ.items()
                    if k not in ("DATABASE_URL", "REDIS_URL") and not k.startswith("OTEL_")
                },
                "ROUTER_HMAC_SECRET": ROUTER_SECRET,
                "LOG_LEVEL": "INFO",
                "AUTH_RATE_LIMIT_PER_IP": RATE_LIMIT_PER_IP,
                "API_RATE_LIMIT_PER_MINUTE": API_RATE_LIMIT,
                # The standard variables only, as an operator sets them.
                "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
                "OTEL_BSP_SCHEDULE_DELAY": "100",
                "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=test",
            },
        )
        try:
            stack.prepare()
            if not seeded:
                asyncio.run(seed(database_url, SEED_PASSWORD, "test"))
                seeded = True
            stack.start()
            return stack
        except RuntimeError as exc:
            stack.stop()
            logs = "".join(
                p.read_text(errors="replace") for p in (stack.data_dir / "logs").glob("*.log")
            )
            if attempt == START_ATTEMPTS or PORT_TAKEN not in (str(exc) + logs).lower():
                raise
    raise AssertionError("unreachable")


@pytest.fixture(scope="package")
def traced(infra: Infra) -> Iterator[TracedStack]:
    with otlp_receiver() as receiver, own_database(infra.database_url) as database_url:
        stack = _start(infra, database_url, receiver)
        try:
            yield TracedStack(stack, receiver)
        finally:
            stack.stop()


@pytest.fixture
async def client(traced: TracedStack) -> AsyncIterator[Client]:
    async with httpx.AsyncClient(timeout=20.0) as http:
        yield Client(traced.stack, http)
