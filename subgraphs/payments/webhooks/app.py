"""The Razorpay webhook sidecar's ASGI app: `POST /webhooks/razorpay`, `/healthz`, `/readyz`,
`/metrics`, and the background worker.

Run: `uvicorn --factory subgraphs.payments.webhooks.app:create_app --port 4005`
(or `python -m subgraphs.payments.webhooks`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from sqlalchemy import text

from shared.app import RequestIdMiddleware
from shared.config import WebhookSettings, webhook_settings
from shared.db import create_sessionmaker
from shared.logging import configure_logging
from shared.redis import create_redis
from subgraphs.payments.webhooks.dispatch import RetryPolicy
from subgraphs.payments.webhooks.metrics import WebhookMetrics
from subgraphs.payments.webhooks.receive import receive
from subgraphs.payments.webhooks.runtime import Runtime
from subgraphs.payments.webhooks.store import create_webhook_engine
from subgraphs.payments.webhooks.worker import WebhookWorker

log = logging.getLogger("webhooks.app")

READY_TIMEOUT_SECONDS = 2.0


def create_app(settings: WebhookSettings | None = None) -> FastAPI:
    settings = settings or webhook_settings()
    configure_logging(settings.service_name, settings.log_level, json=settings.log_json)
    metrics = WebhookMetrics()
    policy = RetryPolicy.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not settings.redis_url:
            raise RuntimeError("REDIS_URL must be set (make dev sets it)")
        engine = create_webhook_engine(settings)
        sessionmaker = create_sessionmaker(engine)
        runtime = Runtime(
            settings=settings,
            metrics=metrics,
            policy=policy,
            engine=engine,
            sessionmaker=sessionmaker,
            redis=create_redis(settings.redis_url),
            worker=WebhookWorker(
                sessionmaker=sessionmaker,
                policy=policy,
                metrics=metrics,
                interval_seconds=settings.webhook_worker_interval_seconds,
                batch_size=settings.webhook_worker_batch_size,
            ),
        )
        app.state.webhooks = runtime
        if not settings.webhook_secrets():
            log.error(
                "RAZORPAY_WEBHOOK_SECRET is not set: every delivery will be refused (400)",
                extra={"security_event": "webhook_secret_missing"},
            )
        if settings.webhook_worker_enabled:
            runtime.worker.start()
        try:
            yield
        finally:
            await runtime.worker.stop()
            await runtime.redis.aclose()
            await engine.dispose()

    app = FastAPI(
        title="Razorpay webhook sidecar",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )

    @app.post("/webhooks/razorpay")
    async def razorpay_webhook(request: Request) -> JSONResponse:
        return await receive(request, request.app.state.webhooks)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": settings.service_name}

    @app.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        runtime: Runtime = request.app.state.webhooks
        if not settings.webhook_secrets():
            return JSONResponse(
                {"status": "unavailable", "reason": "webhook secret not configured"},
                status_code=503,
            )
        try:
            async with asyncio.timeout(READY_TIMEOUT_SECONDS):
                async with runtime.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
                await runtime.redis.ping()
        except Exception:
            log.warning("webhooks not ready", exc_info=True)
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ready", "service": settings.service_name})

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(
        RequestIdMiddleware,
        requests=Counter(
            "http_requests", "HTTP requests served", ["path", "status"], registry=metrics.registry
        ),
        latency=Histogram(
            "http_request_duration_seconds",
            "HTTP request latency",
            ["path"],
            registry=metrics.registry,
        ),
    )
    return app
