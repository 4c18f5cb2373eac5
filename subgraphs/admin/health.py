"""System health: every process and dependency checked concurrently, each within a bound.

Processes (`router`, `auth`, `payments`, `profile`, `webhooks`) are asked for their readiness over
HTTP (`/readyz`; the router's `/readiness`); their JSON's `version` and `details` (outbox backlog,
live subscriptions, the Razorpay circuit, the sidecar's event backlog) are passed on. `admin` is
this process: it answers, so it is up. Dependencies: `postgresql` (a query on admin's pool, with
the server's version), `redis` (`INFO server`, plus the dead-letter stream's length) and
`razorpay`, read from the payments process's readiness details (admin never calls Razorpay):
circuit closed -> UP, waiting for its trial call -> DEGRADED, open -> DOWN.

Every check runs under `timeout` (a task waited for with a deadline, abandoned when it passes,
like `/readyz`'s): a part that never answers is DOWN after `timeout`, and the whole answer comes
within about `timeout`. A check that passes in more than half of `timeout` is DEGRADED (slow).
Overall: DOWN when a required part is down (every process but the sidecar, PostgreSQL and Redis),
else DEGRADED when any part is not UP, else UP.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import metrics
from shared.config import AdminSettings
from shared.consumers import DEAD_STREAM
from shared.lifetime import Resources
from shared.ops import package_version
from shared.tasks import retrieve_outcome, stop_tasks

log = logging.getLogger("bff.admin.health")


class Status(Enum):
    UP = "UP"
    DEGRADED = "DEGRADED"
    DOWN = "DOWN"


class Kind(Enum):
    PROCESS = "PROCESS"
    DEPENDENCY = "DEPENDENCY"


PROCESSES = ("router", "auth", "payments", "admin", "profile", "webhooks")
DEPENDENCIES = ("postgresql", "redis", "razorpay")
REQUIRED = frozenset({"router", "auth", "payments", "admin", "profile", "postgresql", "redis"})
CIRCUIT_STATUS = {"closed": Status.UP, "half_open": Status.DEGRADED, "open": Status.DOWN}


@dataclass(frozen=True)
class Component:
    name: str
    kind: Kind
    status: Status
    latency_ms: float | None = None
    version: str | None = None
    details: dict[str, Any] | None = None


@dataclass(frozen=True)
class Report:
    status: Status
    checked_at: datetime
    components: list[Component]


@dataclass(frozen=True)
class Probe:
    """What one check found: its answer (or the failure) and how long it took."""

    ok: bool
    latency_ms: float
    value: Any = None
    error: str | None = None


@dataclass(frozen=True)
class Targets:
    """Readiness URLs of the other processes, and each check's bound."""

    urls: Mapping[str, str]
    timeout: float

    @classmethod
    def from_settings(cls, settings: AdminSettings) -> Targets:
        return cls(
            urls={
                "router": settings.router_health_url,
                "auth": readyz_url(settings.auth_subgraph_url),
                "payments": readyz_url(settings.payments_subgraph_url),
                "profile": readyz_url(settings.profile_subgraph_url),
                "webhooks": settings.webhooks_health_url,
            },
            timeout=settings.health_check_timeout_seconds,
        )


def readyz_url(subgraph_url: str) -> str:
    """`http://host:port/graphql` -> `http://host:port/readyz` (any path ending in /graphql)."""
    parts = urlsplit(subgraph_url)
    path = parts.path.removesuffix("/").removesuffix("/graphql")
    return urlunsplit((parts.scheme, parts.netloc, f"{path}/readyz", "", ""))


# Checks abandoned at their deadline, finishing in the background: held here, since the event
# loop keeps only weak references to tasks.
_ABANDONED: set[asyncio.Task[Any]] = set()


class AbandonedChecks:
    """A background part of the admin app (`shared.lifetime.Background`): at shutdown it waits,
    bounded, for the checks abandoned at their deadline to finish cancelling, before the pools
    they use are closed (like `/readyz`'s `Ops.settle`)."""

    async def start(self, resources: Resources) -> None:
        return None

    async def stop(self) -> None:
        await stop_tasks(*_ABANDONED)


@dataclass
class Checker:
    """Runs bounded checks."""

    timeout: float
    abandoned: set[asyncio.Task[Any]] = field(default_factory=lambda: _ABANDONED)

    async def probe(self, check: Callable[[], Awaitable[Any]]) -> Probe:
        started = time.perf_counter()
        task = asyncio.ensure_future(check())
        done, _ = await asyncio.wait({task}, timeout=self.timeout)
        latency_ms = round((time.perf_counter() - started) * 1000, 1)
        if not done:
            task.cancel()
            self.abandoned.add(task)
            task.add_done_callback(self._forget)
            return Probe(ok=False, latency_ms=latency_ms, error="timeout")
        exc = task.exception()
        if exc is not None:
            return Probe(ok=False, latency_ms=latency_ms, error=_describe(exc))
        return Probe(ok=True, latency_ms=latency_ms, value=task.result())

    def _forget(self, task: asyncio.Task[Any]) -> None:
        self.abandoned.discard(task)
        retrieve_outcome(task)

    def timed_status(self, probe: Probe) -> Status:
        """UP, or DEGRADED when it took more than half the bound."""
        return Status.DEGRADED if probe.latency_ms > self.timeout * 500 else Status.UP


def _describe(exc: BaseException) -> str:
    """A safe, bounded description of a failed check (never a message with a URL or a secret)."""
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return "timeout"
    if isinstance(exc, httpx.ConnectError | ConnectionError | OSError):
        return "unreachable"
    return type(exc).__name__


@dataclass(frozen=True)
class Readiness:
    status_code: int
    body: dict[str, Any]


async def _get_readiness(client: httpx.AsyncClient, url: str) -> Readiness:
    response = await client.get(url)
    try:
        body = response.json()
    except ValueError:
        body = {}
    return Readiness(response.status_code, body if isinstance(body, dict) else {})


def _process(name: str, probe: Probe, checker: Checker) -> Component:
    if not probe.ok:
        return Component(
            name, Kind.PROCESS, Status.DOWN, probe.latency_ms, details={"error": probe.error}
        )
    answer: Readiness = probe.value
    details = answer.body.get("details")
    details = dict(details) if isinstance(details, dict) else {}
    version = answer.body.get("version")
    version = version if isinstance(version, str) else None
    if answer.status_code != 200:
        reason = answer.body.get("reason")
        details["error"] = reason if isinstance(reason, str) else f"http {answer.status_code}"
        return Component(name, Kind.PROCESS, Status.DOWN, probe.latency_ms, version, details)
    status = checker.timed_status(probe)
    return Component(name, Kind.PROCESS, status, probe.latency_ms, version, details or None)


def _razorpay(payments: Component) -> Component:
    """Razorpay as the payments process sees it (its circuit), without calling Razorpay."""
    signals = (payments.details or {}).get("razorpay")
    if payments.status is Status.DOWN or not isinstance(signals, dict):
        return Component(
            "razorpay",
            Kind.DEPENDENCY,
            Status.DEGRADED,
            details={"error": "unknown: the payments process did not report it"},
        )
    if not signals.get("configured"):
        return Component("razorpay", Kind.DEPENDENCY, Status.DEGRADED, details=dict(signals))
    status = CIRCUIT_STATUS.get(str(signals.get("circuit")), Status.DEGRADED)
    return Component("razorpay", Kind.DEPENDENCY, status, details=dict(signals))


def overall(components: list[Component]) -> Status:
    if any(c.status is Status.DOWN and c.name in REQUIRED for c in components):
        return Status.DOWN
    if any(c.status is not Status.UP for c in components):
        return Status.DEGRADED
    return Status.UP


async def check_system(
    *,
    targets: Targets,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
) -> Report:
    """Every component's health, within about `targets.timeout` whatever hangs."""
    checker = Checker(targets.timeout)

    async def postgresql() -> str:
        async with sessionmaker() as session:
            return str((await session.execute(text("SHOW server_version"))).scalar_one())

    async def redis_info() -> tuple[str, int]:
        info = await redis.info("server")
        dead = await redis.xlen(DEAD_STREAM)
        return str(info.get("redis_version", "")), int(dead)

    async with httpx.AsyncClient(timeout=targets.timeout, follow_redirects=False) as client:
        names = list(targets.urls)

        def readiness(url: str) -> Callable[[], Awaitable[Readiness]]:
            return lambda: _get_readiness(client, url)

        probes = await asyncio.gather(
            *(checker.probe(readiness(targets.urls[name])) for name in names),
            checker.probe(postgresql),
            checker.probe(redis_info),
        )
    by_name = {
        name: _process(name, probe, checker) for name, probe in zip(names, probes, strict=False)
    }
    pg_probe, redis_probe = probes[-2], probes[-1]
    by_name["admin"] = _admin()
    pg = Component(
        "postgresql",
        Kind.DEPENDENCY,
        checker.timed_status(pg_probe) if pg_probe.ok else Status.DOWN,
        pg_probe.latency_ms,
        pg_probe.value if pg_probe.ok else None,
        None if pg_probe.ok else {"error": pg_probe.error},
    )
    if redis_probe.ok:
        redis_version, dead_letters = redis_probe.value
        rd = Component(
            "redis",
            Kind.DEPENDENCY,
            checker.timed_status(redis_probe),
            redis_probe.latency_ms,
            redis_version or None,
            {"deadLetters": dead_letters},
        )
    else:
        rd = Component(
            "redis",
            Kind.DEPENDENCY,
            Status.DOWN,
            redis_probe.latency_ms,
            details={"error": redis_probe.error},
        )
    components = [by_name[name] for name in PROCESSES if name in by_name]
    components += [pg, rd, _razorpay(by_name["payments"])]
    for component in components:
        if component.status is not Status.UP:
            log.info(
                "system health: component not up",
                extra={"component": component.name, "status": component.status.value},
            )
    return Report(overall(components), datetime.now(UTC), components)


def _admin() -> Component:
    """This process: answering this query is its health check."""
    pending = metrics.outbox_pending("admin")
    details = {"outboxPending": pending} if pending is not None else None
    return Component("admin", Kind.PROCESS, Status.UP, 0.0, package_version(), details)
