"""The operational routes every service serves (`shared.ops`) and the background lifecycle
(`shared.lifetime.running`)."""

from __future__ import annotations

import asyncio
import time
import tomllib
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from shared.config import REPO_ROOT, Settings
from shared.db import create_engine, create_sessionmaker
from shared.lifetime import Resources, running
from shared.ops import NotReady, Ops, dependency_checks, package_version
from shared.redis import create_redis
from tests.conftest import Infra

TIMEOUT = 0.2
SILENT_TIMEOUT = 1.0  # room for the PostgreSQL half of the check on a loaded machine


def ops_app(ops: Ops) -> FastAPI:
    app = FastAPI()
    ops.install(app)
    return app


@pytest.fixture
async def ops() -> Ops:
    return Ops("svc", ready_timeout_seconds=TIMEOUT)


@pytest.fixture
async def client(ops: Ops) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=ops_app(ops))
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        yield client


async def passes() -> None:
    return None


async def hangs() -> None:
    await asyncio.sleep(3600)


async def fails() -> None:
    raise ConnectionError("refused")


async def no_secret() -> None:
    raise NotReady("webhook secret not configured")


async def test_health_metrics_and_request_ids(client: httpx.AsyncClient) -> None:
    health = await client.get("/healthz", headers={"x-request-id": "req-123"})
    fresh = await client.get("/healthz")
    metrics = await client.get("/metrics")

    assert health.status_code == 200
    assert health.json() == {"status": "ok", "service": "svc", "version": package_version()}
    assert health.headers["x-request-id"] == "req-123"
    assert len(fresh.headers["x-request-id"]) == 32
    assert 'http_requests_total{path="/healthz",status="200"} 2.0' in metrics.text
    assert "http_request_duration_seconds_bucket" in metrics.text


async def test_not_ready_before_start_up(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


async def test_ready_when_every_check_passes(ops: Ops, client: httpx.AsyncClient) -> None:
    ops.check_with([passes, passes])
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "service": "svc", "version": package_version()}


async def test_readiness_reports_the_service_details(ops: Ops, client: httpx.AsyncClient) -> None:
    ops.check_with([passes])
    ops.details_with(lambda: {"outboxPending": 3})
    ready = await client.get("/readyz")
    ops.check_with([fails])
    unavailable = await client.get("/readyz")

    assert ready.json()["details"] == {"outboxPending": 3}
    assert unavailable.status_code == 503
    assert unavailable.json() == {"status": "unavailable", "details": {"outboxPending": 3}}


async def test_details_that_fail_never_fail_readiness(ops: Ops, client: httpx.AsyncClient) -> None:
    def broken() -> dict[str, object]:
        raise RuntimeError("boom")

    ops.check_with([passes])
    ops.details_with(broken)
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert "details" not in response.json()


def test_the_version_is_the_projects() -> None:
    with (REPO_ROOT / "pyproject.toml").open("rb") as file:
        assert package_version() == tomllib.load(file)["project"]["version"]


async def test_a_failing_check_answers_503(ops: Ops, client: httpx.AsyncClient) -> None:
    ops.check_with([passes, fails])
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}


async def test_a_refusal_gives_its_reason(ops: Ops, client: httpx.AsyncClient) -> None:
    ops.check_with([fails, no_secret])
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "reason": "webhook secret not configured"}


async def test_a_hanging_check_answers_503_within_the_timeout(
    ops: Ops, client: httpx.AsyncClient
) -> None:
    ops.check_with([hangs, hangs, passes])
    started = time.monotonic()
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert time.monotonic() - started < TIMEOUT * 5  # checks run side by side, each bounded


async def test_a_silent_redis_answers_503_quickly(infra: Infra) -> None:
    """A Redis that accepts connections and never answers (a hung server, a black hole)."""

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(-1)
        writer.close()

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    engine = create_engine(infra.database_url, pool_size=1)
    resources = Resources(
        settings=Settings(app_env="test"),
        engine=engine,
        sessionmaker=create_sessionmaker(engine),
        # Client timeouts far beyond the deadline: only readiness's own deadline can answer.
        redis=create_redis(f"redis://127.0.0.1:{port}/0", socket_timeout=60, connect_timeout=60),
    )
    ops = Ops("svc", ready_timeout_seconds=SILENT_TIMEOUT)
    ops.check_with(dependency_checks(resources))
    try:
        started = time.monotonic()
        response = await ops.readiness()
        elapsed = time.monotonic() - started
    finally:
        await ops.settle()  # the abandoned checks' connections go back before the pools close
        await resources.redis.aclose()
        await engine.dispose()
        server.close()
        await server.wait_closed()
    assert response.status_code == 503
    assert elapsed < 30  # the deadline answered, not the 60 s client timeouts


class Part:
    def __init__(self, name: str, log: list[str], *, fail_start: bool = False) -> None:
        self.name, self.log, self.fail_start = name, log, fail_start

    async def start(self, resources: Resources) -> None:
        if self.fail_start:
            raise RuntimeError("cannot start")
        self.log.append(f"start {self.name}")

    async def stop(self) -> None:
        self.log.append(f"stop {self.name}")


async def test_background_parts_start_in_order_and_stop_last_first() -> None:
    log: list[str] = []
    resources = Resources(settings=Settings(), engine=None, sessionmaker=None, redis=None)  # type: ignore[arg-type]
    async with running([Part("a", log), Part("b", log)], resources):
        log.append("serving")
    assert log == ["start a", "start b", "serving", "stop b", "stop a"]


async def test_a_part_that_fails_to_start_stops_those_started() -> None:
    log: list[str] = []
    resources = Resources(settings=Settings(), engine=None, sessionmaker=None, redis=None)  # type: ignore[arg-type]
    parts = [Part("a", log), Part("b", log, fail_start=True), Part("c", log)]
    with pytest.raises(RuntimeError, match="cannot start"):
        async with running(parts, resources):
            log.append("serving")  # pragma: no cover - never reached
    assert log == ["start a", "stop a"]


async def slow_to_cancel() -> None:
    """A query on a paused server: cancelling it runs a clean-up that waits on that server."""
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        await asyncio.sleep(2)
        raise


async def test_a_check_slow_to_cancel_still_answers_within_the_timeout(
    ops: Ops, client: httpx.AsyncClient
) -> None:
    ops.check_with([slow_to_cancel, passes])
    started = time.monotonic()
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert time.monotonic() - started < TIMEOUT * 5
