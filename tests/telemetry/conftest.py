"""A whole stack exporting traces: the router, the four subgraphs, the webhook sidecar and the
Razorpay simulator as processes (like `tests/e2e`), with `OTEL_EXPORTER_OTLP_ENDPOINT` pointing
at an in-process OTLP/HTTP receiver, and INFO logs in files (the access-log lines)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterator
from dataclasses import dataclass

import httpx
import pytest

from devtools.devstack import DevStack
from tests.conftest import Infra
from tests.e2e.conftest import Client, own_database, report_stack_logs, start_stack
from tests.telemetry.receiver import Receiver, otlp_receiver


@dataclass
class TracedStack:
    stack: DevStack
    receiver: Receiver


def _start(infra: Infra, database_url: str, receiver: Receiver) -> DevStack:
    return start_stack(
        infra,
        database_url,
        name="traced",
        env={
            "LOG_LEVEL": "INFO",
            # The standard variables only, as an operator sets them.
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_BSP_SCHEDULE_DELAY": "100",
            "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=test",
        },
    )


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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    report_stack_logs(item, report)  # a failed test keeps the traced stack's logs
    return report
