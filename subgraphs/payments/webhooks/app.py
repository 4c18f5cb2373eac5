"""The Razorpay webhook sidecar's ASGI app: `POST /webhooks/razorpay`, the operational routes of
`shared.ops` (`/healthz`, `/readyz`, `/metrics`, request ids), the background worker, and its
OpenAPI 3.1 document at `/openapi.json` outside production (`openapi.py`).

Run: `uvicorn --factory subgraphs.payments.webhooks.app:create_app --port 4005`
(or `python -m subgraphs.payments.webhooks`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.routing import Route

from shared import telemetry
from shared.app import lean_gc
from shared.config import WebhookSettings, webhook_settings
from shared.db import create_sessionmaker
from shared.lifetime import running
from shared.logging import configure_logging
from shared.ops import NotReady, Ops, dependency_checks
from shared.redis import create_redis
from subgraphs.payments.webhooks.dispatch import RetryPolicy
from subgraphs.payments.webhooks.ingest import GroupCommit
from subgraphs.payments.webhooks.metrics import WebhookMetrics
from subgraphs.payments.webhooks.openapi import OPENAPI_PATH, WEBHOOK_ROUTE, openapi_document
from subgraphs.payments.webhooks.receive import receive
from subgraphs.payments.webhooks.runtime import Runtime
from subgraphs.payments.webhooks.store import create_webhook_engine
from subgraphs.payments.webhooks.worker import WebhookWorker

log = logging.getLogger("webhooks.app")

WEBHOOK_PATH = "/webhooks/razorpay"
# Until this release the request applied the event within this budget before answering.
RETIRED_BUDGET = "WEBHOOK_APPLY_BUDGET_SECONDS"


def _nobody(events: object) -> None:
    return None


def create_app(settings: WebhookSettings | None = None) -> FastAPI:
    settings = settings or webhook_settings()
    configure_logging(settings.service_name, settings.log_level, json=settings.log_json)
    telemetry.setup(f"bff-{settings.service_name}")  # OTEL_* variables; nothing when unset
    metrics = WebhookMetrics()
    policy = RetryPolicy.from_settings(settings)
    ops = Ops(
        settings.service_name,
        ready_timeout_seconds=settings.ready_timeout_seconds,
        registry=metrics.registry,
    )

    async def webhook_secret() -> None:
        if not settings.webhook_secrets():
            raise NotReady("webhook secret not configured")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not settings.redis_url:
            raise RuntimeError("REDIS_URL must be set (make dev sets it)")
        engine = create_webhook_engine(settings)
        sessionmaker = create_sessionmaker(engine)
        ingest = GroupCommit(settings, on_stored=_nobody)
        worker = WebhookWorker(
            sessionmaker=sessionmaker,
            policy=policy,
            metrics=metrics,
            interval_seconds=settings.webhook_worker_interval_seconds,
            batch_size=settings.webhook_worker_batch_size,
            concurrency=settings.webhook_worker_concurrency,
            retention=timedelta(days=settings.webhook_event_retention_days),
            yield_to=ingest.quiet,
        )
        if settings.webhook_worker_enabled:
            # Without the background worker (tests drive `worker.run_once()`) nothing is woken.
            ingest.on_stored = worker.stored
        runtime = Runtime(
            settings=settings,
            metrics=metrics,
            policy=policy,
            engine=engine,
            sessionmaker=sessionmaker,
            redis=create_redis(settings.redis_url),
            worker=worker,
            ingest=ingest,
        )
        app.state.webhooks = runtime
        if not settings.webhook_secrets():
            log.error(
                "RAZORPAY_WEBHOOK_SECRET is not set: every delivery will be refused (400)",
                extra={"security_event": "webhook_secret_missing"},
            )
        if RETIRED_BUDGET in os.environ:
            log.warning(
                f"{RETIRED_BUDGET} is no longer used: every delivery is answered once stored "
                "and applied by the worker (docs/webhooks.md)"
            )
        background = [runtime.worker] if settings.webhook_worker_enabled else []

        def details() -> dict[str, object]:
            backlog = runtime.worker.backlog
            return {"events": backlog} if backlog is not None else {}

        await runtime.ingest.start()
        try:
            async with running(background, runtime):
                ops.check_with([webhook_secret, *dependency_checks(runtime)])
                ops.details_with(details)
                with lean_gc():
                    yield
                ops.check_with(None)
                ops.details_with(None)
        finally:
            await runtime.ingest.stop()
            await ops.settle()
            await runtime.redis.aclose()
            await engine.dispose()

    app = FastAPI(
        title="Razorpay webhook sidecar",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        telemetry=telemetry.fastapi_telemetry(),
    )

    async def razorpay_webhook(request: Request) -> Response:
        return await receive(request, request.app.state.webhooks)

    # Served by a plain Starlette route, first in the table: FastAPI's per-request machinery
    # (dependency solving, exit stacks) was a third of the sidecar's CPU per delivery, and this
    # route needs none of it (it reads the raw body itself). The FastAPI route behind it, never
    # reached, declares the operation for the OpenAPI document (`openapi.py`).
    app.router.routes.insert(
        0,
        Route(WEBHOOK_PATH, razorpay_webhook, methods=["POST"], include_in_schema=False),
    )
    app.post(WEBHOOK_PATH, **WEBHOOK_ROUTE)(razorpay_webhook)

    ops.install(app)
    if not settings.is_production:
        document: dict[str, object] = {}

        async def openapi() -> JSONResponse:
            if not document:
                document.update(openapi_document(app))
            return JSONResponse(document)

        app.add_api_route(OPENAPI_PATH, openapi, methods=["GET"], include_in_schema=False)
    telemetry.instrument_app(app)
    return app
