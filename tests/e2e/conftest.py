"""The whole system for end-to-end tests: the real router and the four subgraphs as processes,
on ports the kernel chooses (race-free: devtools.devstack), over a database of their own on the
session's PostgreSQL and a Redis of their own, with a router secret of their own (every test here
is marked `e2e`). When a test fails, the stack's process logs are kept, secrets redacted, under
`build/test-artifacts/stack-logs/<stack>/` (TEST_ARTIFACTS_DIR) and the failure says where."""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from devtools.devstack import DEFAULT_PORTS, DevStack
from shared import router_signature
from shared.config import REPO_ROOT
from shared.redis import create_redis
from subgraphs.auth.seed import seed
from subgraphs.payments.live.pubsub import payment_channel
from tests import helpers
from tests.conftest import Infra
from tests.helpers import wait_until

SEED_PASSWORD = "Seed-Password-For-Tests-1"
RATE_LIMIT_PER_IP = "10000"  # every e2e call comes from 127.0.0.1
API_RATE_LIMIT = "100000"  # the router's per-IP limit: the e2e tests share one address
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS_DIR", REPO_ROOT / "build" / "test-artifacts"))
# Stacks started from threads of one process (test_stack_ports.py) prepare one at a time: Alembic
# keeps its migration context in module state. Their processes start at once.
_PREPARING = threading.Lock()


def router_secret(stack: DevStack) -> str:
    """The stack's own router secret (random per stack: a request signed for another test
    run's stack is refused by this one's subgraphs)."""
    return stack.env["ROUTER_HMAC_SECRET"]


def stack_logs_dir(name: str) -> Path:
    return ARTIFACTS / "stack-logs" / name


def keep_stack_logs(stack: DevStack, name: str) -> Path:
    """The stack's process logs so far, secrets redacted, where CI keeps artifacts."""
    folder = stack_logs_dir(name)
    stack.keep_logs(folder, {"SEED_PASSWORD": SEED_PASSWORD})
    return folder


def report_stack_logs(item: pytest.Item, report: pytest.TestReport) -> None:
    """On a failed test: keep the logs of every stack it used and say where in the failure."""
    if not report.failed:
        return
    funcargs: dict[str, Any] = getattr(item, "funcargs", {})
    stacks: dict[int, DevStack] = {}
    for value in funcargs.values():
        stack = value if isinstance(value, DevStack) else getattr(value, "stack", None)
        if isinstance(stack, DevStack):
            stacks[id(stack)] = stack
    for stack in stacks.values():
        if stack.log_to_files:
            name = stack.data_dir.name  # start_stack's `name`
            folder = keep_stack_logs(stack, name)
            report.sections.append(
                ("stack logs", f"the {name} stack's process logs are kept in {folder}")
            )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    report_stack_logs(item, report)
    return report


@contextmanager
def own_database(server_url: str) -> Iterator[str]:
    """A database of the stack's own on the session's server (see `stack`)."""
    name = f"e2e_{uuid.uuid4().hex[:10]}"
    asyncio.run(helpers.create_database(server_url, name))
    try:
        yield helpers.database_url(server_url, name)
    finally:
        asyncio.run(helpers.drop_database(server_url, name))


def start_stack(
    infra: Infra,
    database_url: str,
    *,
    serve_mfe: bool = False,
    env: dict[str, str] | None = None,
    name: str = "stack",
    before_start: Callable[[DevStack], None] | None = None,
) -> DevStack:
    """The whole system as processes on ports the kernel chooses, seeded, with a random router
        secret; `env` overrides the defaults. The caller's `OTEL_*` variables are not passed on (a
        test stack exports traces only where a test sets them: tests/telemetry). A stack that does
        not come up keeps its logs (`keep_stack_logs`) and the error says where. `before_start` runs
    between the ports' choice and the processes' start (tests of that window)."""
    inherited = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL") and not k.startswith("OTEL_")
    }
    stack = DevStack(
        app_env="test",
        data_dir=infra.data_dir / name,
        ports=dict.fromkeys(DEFAULT_PORTS, 0),
        database_url=database_url,
        redis_url=None,  # a Redis server of the stack's own, started and stopped with it
        log_to_files=True,
        serve_mfe=serve_mfe,
        base_env={
            **inherited,
            "ROUTER_HMAC_SECRET": secrets.token_urlsafe(32),
            "LOG_LEVEL": "WARNING",
            "AUTH_RATE_LIMIT_PER_IP": RATE_LIMIT_PER_IP,
            "API_RATE_LIMIT_PER_MINUTE": API_RATE_LIMIT,
            **(env or {}),
        },
    )
    try:
        with _PREPARING:
            stack.prepare()
            asyncio.run(seed(database_url, SEED_PASSWORD, "test"))
        if before_start is not None:
            before_start(stack)
        stack.start()
    except BaseException as exc:
        stack.stop()
        folder = keep_stack_logs(stack, name)
        raise RuntimeError(
            f"the {name} stack did not start ({exc}); its process logs are kept in {folder}"
        ) from exc
    return stack


@pytest.fixture(scope="package")
def stack(infra: Infra) -> Iterator[DevStack]:
    """The whole system, on a database and a Redis of its own, for the e2e tests only.

    Its processes run background loops (the webhook worker, outbox relays, consumers, the
    reconciler) that claim whatever is due in their database and streams. On the session's
    shared database they raced the in-process tests: the sidecar's worker applied the event
    `tests/webhooks/test_apply.py` was retrying by hand. So the stack gets its own database and
    Redis, and stops when the e2e package is done."""
    with own_database(infra.database_url) as database_url:
        stack = start_stack(infra, database_url, name="e2e")
        try:
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
                    router_secret(self.stack), query, variables
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


async def subscribed_upstream(client: Client, payment_id: str) -> None:
    """Wait until the payments subgraph listens on the payment's channel (the router has passed
    the subscription on): an update published before that would reach nobody."""
    redis = create_redis(client.stack.env["REDIS_URL"])
    try:

        async def listening() -> bool:
            [(_, count)] = await redis.pubsub_numsub(payment_channel(payment_id))
            return int(count) >= 1

        await wait_until(listening, message="the subscription never reached the subgraph")
    finally:
        await redis.aclose()
