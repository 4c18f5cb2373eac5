"""`systemHealth` (ADMIN only): every process and dependency checked concurrently, each within
its bound; a part that never answers cannot hold the answer up."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from shared.config import AdminSettings, PaymentsSettings, WebhookSettings
from shared.ops import package_version
from shared.scopes import Role
from shared.tokens import SigningKeys
from subgraphs.admin import health as health_module
from subgraphs.admin.app import create_app
from subgraphs.admin.context import AdminDeps
from subgraphs.admin.health import Component, Kind, Status, Targets, overall, readyz_url
from subgraphs.admin.schema import create_schema
from subgraphs.payments.app import create_app as create_payments
from subgraphs.payments.context import PaymentsDeps
from subgraphs.payments.webhooks.app import create_app as create_sidecar
from tests.admin.test_graphql import ADMIN_SCOPE
from tests.conftest import Infra
from tests.helpers import ROUTER_SECRET, Subgraph, app_client, error_codes, verifier_factory
from tests.simulator.support import ServerThread

HEALTH = """{ systemHealth { status checkedAt
  components { name kind status latencyMs version details } } }"""
TIMEOUT = 1.0


@contextmanager
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel completes the handshake) and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield int(server.getsockname()[1])


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def targets(**urls: str) -> Targets:
    dead = f"http://127.0.0.1:{closed_port()}"
    names = ("router", "auth", "payments", "profile", "webhooks")
    return Targets(urls={n: urls.get(n, f"{dead}/readyz") for n in names}, timeout=TIMEOUT)


@asynccontextmanager
async def admin_with(
    infra: Infra, admin_keys: SigningKeys, health_targets: Targets
) -> AsyncIterator[Subgraph]:
    settings = AdminSettings(
        app_env="test",
        database_url=infra.database_url,
        redis_url=infra.redis_url,
        router_hmac_secret=ROUTER_SECRET,
        log_json=False,
        log_level="WARNING",
    )
    deps = AdminDeps(verifier_factory=verifier_factory(admin_keys), health_targets=health_targets)
    app = create_app(settings, deps=deps)
    async with app_client(app) as client:
        yield Subgraph(
            client=client, engine=app.state.resources.engine, settings=settings, keys=admin_keys
        )


def by_name(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in data["systemHealth"]["components"]}


def test_system_health_is_admin_only_and_described_in_the_sdl() -> None:
    sdl = create_schema(None).as_str()
    assert f"systemHealth: SystemHealth! {ADMIN_SCOPE}" in sdl
    for declaration in ("enum HealthStatus", "enum ComponentKind", "type ComponentHealth"):
        assert declaration in sdl


async def test_only_an_admin_may_ask(infra: Infra, admin_keys: SigningKeys) -> None:
    async with admin_with(infra, admin_keys, targets()) as admin:
        for role in (Role.CUSTOMER, Role.VENDOR):
            result = await admin.gql(HEALTH, as_=admin.caller(role))
            assert error_codes(result) == ["FORBIDDEN"]
            assert result.get("data") is None


async def test_a_silent_process_cannot_hold_the_answer(
    infra: Infra, admin_keys: SigningKeys
) -> None:
    with silent_port() as port:
        health_targets = targets(router=f"http://127.0.0.1:{port}/readiness")
        async with admin_with(infra, admin_keys, health_targets) as admin:
            started = time.monotonic()
            data = await admin.ok(HEALTH, as_=admin.caller(Role.ADMIN))
            elapsed = time.monotonic() - started

    assert elapsed < TIMEOUT + 2.0  # the bound plus the query's own work, on a loaded machine
    health = data["systemHealth"]
    components = by_name(data)
    assert [c["name"] for c in health["components"]] == [
        "router",
        "auth",
        "payments",
        "admin",
        "profile",
        "webhooks",
        "postgresql",
        "redis",
        "razorpay",
    ]
    assert health["status"] == "DOWN"
    assert components["router"]["status"] == "DOWN"
    assert components["router"]["details"] == {"error": "timeout"}
    assert components["router"]["latencyMs"] >= TIMEOUT * 1000 * 0.9
    assert components["auth"]["details"] == {"error": "unreachable"}
    assert components["admin"]["status"] == "UP"
    assert components["admin"]["version"] == package_version()
    assert components["postgresql"]["status"] in ("UP", "DEGRADED")
    assert components["postgresql"]["version"][:2].isdigit()
    assert components["redis"]["status"] in ("UP", "DEGRADED")
    assert isinstance(components["redis"]["details"]["deadLetters"], int)
    assert components["razorpay"]["status"] == "DEGRADED"
    kinds = {c["name"]: c["kind"] for c in health["components"]}
    assert {n for n, k in kinds.items() if k == "DEPENDENCY"} == {"postgresql", "redis", "razorpay"}


@dataclass(frozen=True)
class PaymentsServer:
    url: str
    deps: PaymentsDeps


@pytest.fixture(scope="module")
def payments_server(shop_settings: PaymentsSettings, keys: SigningKeys) -> Iterator[PaymentsServer]:
    """A payments process over HTTP, with the simulator as Razorpay."""
    deps = PaymentsDeps.from_settings(shop_settings, verifier_factory=verifier_factory(keys))
    server = ServerThread(create_payments(shop_settings, deps=deps)).start()
    try:
        yield PaymentsServer(f"{server.url}/graphql", deps)
    finally:
        server.stop()


def sidecar(infra: Infra, secret: str | None) -> ServerThread:
    settings = WebhookSettings(
        app_env="test",
        database_url=infra.database_url,
        redis_url=infra.redis_url,
        razorpay_webhook_secret=secret,
        log_json=False,
        log_level="WARNING",
    )
    return ServerThread(create_sidecar(settings)).start()


@pytest.fixture(scope="module")
def sidecar_server(infra: Infra) -> Iterator[str]:
    server = sidecar(infra, "whsec-test-secret")
    try:
        yield f"{server.url}/readyz"
    finally:
        server.stop()


async def test_processes_report_their_signals(
    infra: Infra, admin_keys: SigningKeys, payments_server: PaymentsServer, sidecar_server: str
) -> None:
    health_targets = targets(payments=readyz_url(payments_server.url), webhooks=sidecar_server)
    async with admin_with(infra, admin_keys, health_targets) as admin:
        data = await admin.ok(HEALTH, as_=admin.caller(Role.ADMIN))
    components = by_name(data)

    payments = components["payments"]
    assert payments["status"] in ("UP", "DEGRADED")  # DEGRADED only when slow
    assert payments["version"] == package_version()
    assert payments["details"]["liveSubscriptions"] == 0
    assert payments["details"]["razorpay"] == {"configured": True, "circuit": "closed"}
    assert components["razorpay"]["status"] == "UP"
    assert components["razorpay"]["details"]["circuit"] == "closed"
    assert components["webhooks"]["status"] in ("UP", "DEGRADED")
    assert components["webhooks"]["version"] == package_version()
    # The router and the other subgraphs are not running here: required, so DOWN overall.
    assert data["systemHealth"]["status"] == "DOWN"


async def test_an_open_circuit_is_razorpay_down_and_a_refusal_is_the_process_down(
    infra: Infra, admin_keys: SigningKeys, payments_server: PaymentsServer
) -> None:
    gateway = payments_server.deps.gateway
    assert gateway is not None
    unconfigured = sidecar(infra, None)  # answers /readyz 503: no webhook secret
    try:
        for _ in range(gateway.breaker.failure_threshold):
            gateway.breaker.record_failure()
        health_targets = targets(
            payments=readyz_url(payments_server.url), webhooks=f"{unconfigured.url}/readyz"
        )
        async with admin_with(infra, admin_keys, health_targets) as admin:
            data = await admin.ok(HEALTH, as_=admin.caller(Role.ADMIN))
    finally:
        gateway.breaker.record_success()
        unconfigured.stop()
    components = by_name(data)

    assert components["razorpay"]["status"] == "DOWN"
    assert components["razorpay"]["details"] == {"configured": True, "circuit": "open"}
    assert components["payments"]["details"]["razorpay"]["circuit"] == "open"
    assert components["webhooks"]["status"] == "DOWN"
    assert components["webhooks"]["details"]["error"] == "webhook secret not configured"


def component(name: str, status: Status) -> Component:
    kind = Kind.DEPENDENCY if name in ("postgresql", "redis", "razorpay") else Kind.PROCESS
    return Component(name, kind, status)


ALL = (
    "router",
    "auth",
    "payments",
    "admin",
    "profile",
    "webhooks",
    "postgresql",
    "redis",
    "razorpay",
)


@pytest.mark.parametrize(
    ("changed", "expected"),
    [
        ({}, Status.UP),
        ({"razorpay": Status.DOWN}, Status.DEGRADED),
        ({"webhooks": Status.DOWN}, Status.DEGRADED),
        ({"redis": Status.DEGRADED}, Status.DEGRADED),
        ({"postgresql": Status.DOWN}, Status.DOWN),
        ({"router": Status.DOWN, "razorpay": Status.DEGRADED}, Status.DOWN),
        ({"profile": Status.DOWN}, Status.DOWN),
    ],
)
def test_the_overall_status(changed: dict[str, Status], expected: Status) -> None:
    parts = [component(name, changed.get(name, Status.UP)) for name in ALL]
    assert overall(parts) is expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://auth:4001/graphql", "http://auth:4001/readyz"),
        ("http://127.0.0.1:4002/graphql/", "http://127.0.0.1:4002/readyz"),
        ("https://x.internal/payments/graphql?a=1", "https://x.internal/payments/readyz"),
    ],
)
def test_readiness_urls_follow_the_subgraph_urls(url: str, expected: str) -> None:
    assert readyz_url(url) == expected


def test_failed_checks_are_described_without_their_messages() -> None:
    assert health_module._describe(httpx.ReadTimeout("http://secret@host")) == "timeout"
    assert health_module._describe(ConnectionRefusedError("10.0.0.1:4001")) == "unreachable"
    assert health_module._describe(ValueError("password=hunter2")) == "ValueError"


def test_a_readiness_answer_without_json_is_up_without_version() -> None:
    checker = health_module.Checker(TIMEOUT)
    answer = health_module.Readiness(200, {})
    probe = health_module.Probe(ok=True, latency_ms=3.0, value=answer)
    router = health_module._process("router", probe, checker)
    assert (router.status, router.version, router.details) == (Status.UP, None, None)
    slow = health_module.Probe(ok=True, latency_ms=TIMEOUT * 1000 * 0.6, value=answer)
    assert health_module._process("router", slow, checker).status is Status.DEGRADED


def test_razorpay_without_keys_is_degraded() -> None:
    payments = Component(
        "payments", Kind.PROCESS, Status.UP, details={"razorpay": {"configured": False}}
    )
    razorpay = health_module._razorpay(payments)
    assert (razorpay.status, razorpay.details) == (Status.DEGRADED, {"configured": False})
