"""The operational surface every service process serves the same way (the four subgraphs through
`shared.app`, the webhook sidecar): `/healthz`, `/readyz`, `/metrics` and request ids.

- `/healthz`: 200 `{"status": "ok", "service": ..., "version": ...}` while the process serves
  requests.
- `/readyz`: every check (PostgreSQL, Redis, a service's own rules) runs concurrently, each under
  `READY_TIMEOUT_SECONDS`: 200 `{"status": "ready", "service": ..., "version": ...}` when all
  pass, else 503 `{"status": "unavailable"}` (plus `"reason"` when a check refused with
  `NotReady`). A dead or hanging dependency answers 503 within the timeout; before start-up every
  answer is 503. Both answers carry `"details"` when the service reports operational signals
  (`details_with`: circuit state, outbox backlog, live subscriptions...; read by the admin
  `systemHealth` query).
- `/metrics`: the app's Prometheus registry (request counts and latencies, plus whatever the
  service registers in it) followed by the process-wide `bff_*` families of `shared.metrics`.
- `RequestIdMiddleware`: carries the router's `x-request-id` (or a new one) through the logs and
  back in the response, counts requests, and writes the access-log line of each request
  (logger `bff.access`: method, path without the query string, status, duration_ms, the
  GraphQL operation name; the request and trace ids come with every line; never a header, a
  token or a body). Probes and scrapes (`/healthz`, `/readyz`, `/metrics`) are logged at DEBUG.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.metadata
import logging
import time
import tomllib
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import metrics as bff_metrics
from shared.config import REPO_ROOT
from shared.lifetime import Resources
from shared.logging import request_id_var
from shared.tasks import retrieve_outcome, stop_tasks
from shared.telemetry import AccessRecord, access_record

log = logging.getLogger("bff.ops")
access_log = logging.getLogger("bff.access")

Check = Callable[[], Awaitable[None]]
"""A readiness check: returns when ready, raises (`NotReady` to give a reason) when not."""

Details = Callable[[], dict[str, Any]]
"""A service's operational signals for `/readyz` (cheap: values already in memory)."""

LABELLED_PATHS = ("/graphql", "/healthz")
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


PACKAGE = "payments-bff"


@functools.cache
def package_version() -> str:
    """The product's version: the installed distribution's, else `pyproject.toml`'s."""
    try:
        return importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        pass
    try:
        with (REPO_ROOT / "pyproject.toml").open("rb") as file:
            return str(tomllib.load(file)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


class NotReady(Exception):
    """A readiness check's refusal, with the reason `/readyz` shows."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def dependency_checks(resources: Resources) -> list[Check]:
    """PostgreSQL (`SELECT 1` on a pooled connection) and Redis (`PING`)."""

    async def postgres() -> None:
        async with resources.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def redis() -> None:
        await resources.redis.ping()

    return [postgres, redis]


def _forget(tasks: set[asyncio.Task[None]]) -> Callable[[asyncio.Task[None]], None]:
    def done(task: asyncio.Task[None]) -> None:
        tasks.discard(task)
        retrieve_outcome(task)

    return done


class RequestIdMiddleware:
    """Carries the router's `x-request-id` (or a new one) through logs and back in the response,
    and counts requests for /metrics. Plain ASGI: no per-request task or body copy."""

    def __init__(self, app: ASGIApp, *, requests: Counter, latency: Histogram) -> None:
        self.app = app
        self.requests = requests
        self.latency = latency
        # The metrics' children by label values (a few paths x status codes), looked up once:
        # `labels()` takes a lock and builds its key on every call.
        self._counted: dict[tuple[str, int], Counter] = {}
        self._timed: dict[str, Histogram] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = ""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                request_id = value.decode("latin-1")[:128]
                break
        request_id = request_id or uuid.uuid4().hex
        token = request_id_var.set(request_id)
        record = AccessRecord()
        record_token = access_record.set(record)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            kind = message["type"]
            if kind == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode("latin-1")),
                ]
            elif kind == "websocket.accept":
                status = 101
            elif kind == "websocket.close" and status == 0:
                status = 403  # refused before the handshake completed
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            _access(scope, status, elapsed, record)
            access_record.reset(record_token)
            request_id_var.reset(token)
            if scope["type"] == "http":
                path = scope["path"] if scope["path"] in LABELLED_PATHS else "other"
                counted = self._counted.get((path, status))
                if counted is None:
                    counted = self._counted[path, status] = self.requests.labels(
                        path=path, status=str(status)
                    )
                counted.inc()
                timed = self._timed.get(path)
                if timed is None:
                    timed = self._timed[path] = self.latency.labels(path=path)
                timed.observe(elapsed)


def _access(scope: Scope, status: int, elapsed: float, record: AccessRecord) -> None:
    """The access-log line of one request (one WebSocket connection: logged when it closes)."""
    path: str = scope["path"]
    level = logging.DEBUG if path in QUIET_PATHS else logging.INFO
    if not access_log.isEnabledFor(level):
        return
    access_log.log(
        level,
        "request",
        extra={
            "method": scope.get("method", "GET"),
            "path": path[:200],
            "status": status or 500,
            "duration_ms": round(elapsed * 1000, 2),
            "operation_name": record.operation_name,
            "websocket": scope["type"] == "websocket",
        },
    )


class Ops:
    """One app's health, readiness, metrics and request ids. The app's lifespan says what to check
    (`check_with`) once its resources exist; `install` adds the routes and the middleware."""

    def __init__(
        self,
        service_name: str,
        *,
        ready_timeout_seconds: float,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.service_name = service_name
        self.ready_timeout_seconds = ready_timeout_seconds
        self.registry = registry or CollectorRegistry()
        self.requests = Counter(
            "http_requests", "HTTP requests served", ["path", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency",
            ["path"],
            registry=self.registry,
        )
        self._checks: tuple[Check, ...] | None = None
        self._details: Details | None = None
        self._abandoned: set[asyncio.Task[None]] = set()

    def check_with(self, checks: Sequence[Check] | None) -> None:
        """What `/readyz` runs from now on (None: not started, or stopping: always 503)."""
        self._checks = tuple(checks) if checks is not None else None

    def details_with(self, details: Details | None) -> None:
        """What `/readyz` reports under `"details"` from now on (None: nothing)."""
        self._details = details

    def _signals(self) -> dict[str, Any] | None:
        if self._details is None:
            return None
        try:
            return self._details()
        except Exception as exc:  # a signal that cannot be read never fails readiness
            log.warning("readiness details failed", extra={"error_type": type(exc).__name__})
            return None

    async def settle(self) -> None:
        """Wait (bounded) for checks abandoned at their deadline to finish their clean-up: call it
        before closing the engine and Redis client they use, or their connections leak."""
        await stop_tasks(*self._abandoned)

    async def readiness(self) -> JSONResponse:
        checks = self._checks
        failures = (
            [NotReady("not started")]
            if checks is None
            else [f for f in await asyncio.gather(*map(self._run, checks)) if f is not None]
        )
        signals = self._signals() if checks is not None else None
        extra: dict[str, Any] = {"details": signals} if signals else {}
        if not failures:
            return JSONResponse(
                {
                    "status": "ready",
                    "service": self.service_name,
                    "version": package_version(),
                    **extra,
                }
            )
        body: dict[str, Any] = {"status": "unavailable", **extra}
        reasons = [f.reason for f in failures if isinstance(f, NotReady)]
        if reasons:
            body["reason"] = reasons[0]
        return JSONResponse(body, status_code=503)

    async def _run(self, check: Check) -> Exception | None:
        # A task waited for with a deadline, not `asyncio.timeout` around the await: cancelling a
        # query on a paused server runs its clean-up (a rollback) against that same server, and
        # the answer must not wait for that. The abandoned task finishes in the background
        # (bounded by the client's own timeouts).
        task = asyncio.ensure_future(check())
        done, _ = await asyncio.wait({task}, timeout=self.ready_timeout_seconds)
        if not done:
            task.cancel()
            self._abandoned.add(task)
            task.add_done_callback(_forget(self._abandoned))
        exc = TimeoutError() if not done else task.exception()
        if isinstance(exc, NotReady):
            return exc
        if exc is not None:  # TimeoutError included: a hanging dependency is not ready
            log.warning(
                "not ready",
                extra={
                    "check": getattr(check, "__name__", repr(check)),
                    "error_type": type(exc).__name__,
                },
            )
            return exc if isinstance(exc, Exception) else RuntimeError(repr(exc))
        return None

    def metrics(self) -> Response:
        body = generate_latest(self.registry) + generate_latest(bff_metrics.REGISTRY)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    def install(self, app: FastAPI) -> None:
        service = {"status": "ok", "service": self.service_name, "version": package_version()}

        async def healthz() -> dict[str, str]:
            return service

        async def readyz() -> JSONResponse:
            return await self.readiness()

        async def metrics() -> Response:
            return self.metrics()

        app.add_api_route("/healthz", healthz, methods=["GET"])
        app.add_api_route("/readyz", readyz, methods=["GET"])
        app.add_api_route("/metrics", metrics, methods=["GET"])
        app.state.metrics_registry = self.registry  # for an app's own metric families
        app.add_middleware(RequestIdMiddleware, requests=self.requests, latency=self.latency)
