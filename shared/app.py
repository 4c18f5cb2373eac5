"""The application factory every subgraph uses: GraphQL at /graphql (HTTP and WebSocket), health,
readiness and Prometheus metrics, request ids, JSON logs, and the shared per-request context."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter

from shared import router_signature
from shared.config import Settings
from shared.context import RequestContext, authenticate, client_ip
from shared.db import create_engine, create_sessionmaker
from shared.logging import configure_logging, request_id_var
from shared.redis import create_redis
from shared.schema import SubgraphSchema
from shared.tokens import TokenVerifier, http_jwks_fetcher

ContextT = TypeVar("ContextT", bound=RequestContext)

ROUTER_WS_CREDENTIAL = "x-router-signature"


@dataclass
class Resources:
    """What a running service holds for its lifetime."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis
    verifier: TokenVerifier
    extra: dict[str, Any] = field(default_factory=dict)


class RequestIdMiddleware:
    """Carries the router's `x-request-id` (or a new one) through logs and back in the response,
    and counts requests for /metrics. Plain ASGI: no per-request task or body copy."""

    def __init__(self, app: ASGIApp, *, requests: Counter, latency: Histogram) -> None:
        self.app = app
        self.requests = requests
        self.latency = latency

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
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode("latin-1")),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)
            if scope["type"] == "http":
                path = scope["path"] if scope["path"] in ("/graphql", "/healthz") else "other"
                self.requests.labels(path=path, status=str(status)).inc()
                self.latency.labels(path=path).observe(time.perf_counter() - started)


class SubgraphRouter(GraphQLRouter[ContextT, None]):
    """Authenticates WebSocket connections from the `connection_init` payload."""

    resources: Resources
    router_secret: str | None

    async def parse_multipart(self, request: AsyncHTTPRequestAdapter) -> dict[str, str]:
        # Strawberry turns a `map` it cannot apply into a 500 (AttributeError, ValueError, ...).
        try:
            return await super().parse_multipart(request)
        except (AttributeError, TypeError, ValueError, IndexError) as error:
            raise HTTPException(400, "Malformed multipart request: bad `map`") from error

    async def on_ws_connect(self, context: ContextT) -> dict[str, Any] | None:
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        if self.router_secret is not None:
            credential = params.get(ROUTER_WS_CREDENTIAL)
            if not isinstance(credential, str) or not router_signature.verify_ws_credential(
                self.router_secret, credential
            ):
                raise ConnectionRejectionError({"code": "FORBIDDEN"})
            context.router_verified = True
        authorization = params.get("Authorization", params.get("authorization"))
        context.principal, context.auth_error = await authenticate(
            authorization, verifier=self.resources.verifier, redis=self.resources.redis
        )
        return None


def create_subgraph_app(
    *,
    settings: Settings,
    schema_factory: Callable[[str | None], SubgraphSchema],
    context_class: type[ContextT],
    verifier_factory: Callable[[Settings], TokenVerifier] | None = None,
    on_startup: Sequence[Callable[[Resources], Awaitable[None]]] = (),
    on_shutdown: Sequence[Callable[[Resources], Awaitable[None]]] = (),
    routes: Sequence[BaseRoute] = (),
    readiness_checks: Sequence[Callable[[Resources], Awaitable[None]]] = (),
) -> FastAPI:
    configure_logging(settings.service_name, settings.log_level, json=settings.log_json)
    router_secret = (
        settings.secret("router_hmac_secret") if settings.require_router_signature else None
    )
    schema = schema_factory(router_secret)
    registry = CollectorRegistry()
    requests = Counter(
        "http_requests", "HTTP requests served", ["path", "status"], registry=registry
    )
    latency = Histogram(
        "http_request_duration_seconds", "HTTP request latency", ["path"], registry=registry
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not settings.database_url or not settings.redis_url:
            raise RuntimeError("DATABASE_URL and REDIS_URL must be set (make dev sets them)")
        engine = create_engine(
            settings.database_url,
            pool_size=settings.db_pool_size,
            application_name=settings.service_name,
        )
        verifier = (
            verifier_factory(settings)
            if verifier_factory
            else TokenVerifier(
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
                fetch_jwks=http_jwks_fetcher(settings.auth_jwks_url),
            )
        )
        resources = Resources(
            settings=settings,
            engine=engine,
            sessionmaker=create_sessionmaker(engine),
            redis=create_redis(settings.redis_url),
            verifier=verifier,
        )
        app.state.resources = resources
        graphql.resources = resources
        for hook in on_startup:
            await hook(resources)
        try:
            yield
        finally:
            for hook in reversed(on_shutdown):
                await hook(resources)
            await resources.redis.aclose()
            await engine.dispose()

    async def get_context(connection: HTTPConnection) -> AsyncIterator[ContextT]:
        resources: Resources = connection.app.state.resources
        if connection.scope["type"] == "http":
            principal, auth_error = await authenticate(
                connection.headers.get("authorization"),
                verifier=resources.verifier,
                redis=resources.redis,
            )
        else:  # WebSocket: authenticated from connection_init, in on_ws_connect
            principal, auth_error = None, None
        context = context_class(
            request_id=connection.scope.get("state", {}).get("request_id") or uuid.uuid4().hex,
            client_ip=client_ip(connection),
            principal=principal,
            auth_error=auth_error,
            sessionmaker=resources.sessionmaker,
            redis=resources.redis,
        )
        try:
            yield context
        finally:
            await context.close()
            if isinstance(connection, Request):
                await connection.close()  # closes the files of a multipart request

    graphql: SubgraphRouter[ContextT] = SubgraphRouter(
        schema,
        # A FastAPI dependency with clean-up (async generator): Strawberry resolves it through
        # Depends, which supports that; its annotation only names plain callables.
        context_getter=get_context,  # type: ignore[arg-type]
        graphql_ide="graphiql" if not settings.is_production else None,
        multipart_uploads_enabled=True,
    )
    graphql.router_secret = router_secret

    app = FastAPI(
        title=f"{settings.service_name} subgraph",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.schema = schema
    app.include_router(graphql, prefix="/graphql")
    for route in routes:
        app.router.routes.append(route)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": settings.service_name}

    @app.get("/readyz")
    async def readyz(request: Request) -> Response:
        resources: Resources = request.app.state.resources
        try:
            async with resources.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            await resources.redis.ping()
            for check in readiness_checks:
                await check(resources)
        except Exception:
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ready", "service": settings.service_name})

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(RequestIdMiddleware, requests=requests, latency=latency)
    return app
