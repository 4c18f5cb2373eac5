"""The application factory every subgraph uses: GraphQL at /graphql (HTTP and WebSocket:
Strawberry's own ASGI app, `SubgraphGraphQL`, on a plain route of the FastAPI app), the
operational routes of `shared.ops` (health, readiness, metrics, request ids), JSON logs, the
shared per-request context and the app's background parts.

One wiring for the four subgraphs: each `subgraphs/<service>/app.py` has
`create_app(settings: XSettings | None = None, *, deps: XDeps | None = None) -> FastAPI`, where
`XDeps` (in its `context.py`) is a frozen `shared.context.SubgraphDeps` subclass, and calls
`create_subgraph_app` with its `Context` class, those deps and its `background` parts
(`shared.lifetime.Background`). Each request's context gets the deps as `context.deps`; routes
reach them as `request.app.state.deps`.
"""

from __future__ import annotations

import gc
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from fastapi import FastAPI
from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError

from shared import input_guard, router_signature, telemetry
from shared.config import Settings
from shared.context import DepsT, SubgraphContext, authenticate, client_ip, forwarded_ip
from shared.db import DbTimeouts, create_engine, create_sessionmaker
from shared.graphql_http import is_json_post, json_bytes, lean_json_post_ready, serve_json_post
from shared.key_reads import KeyReads
from shared.lifetime import Background, Resources, running
from shared.logging import configure_logging
from shared.metrics import operation_metrics, outbox_pending, parse_operation_names
from shared.ops import Check, Ops, dependency_checks
from shared.redis import create_redis
from shared.schema import SubgraphSchema
from shared.tokens import TokenVerifier

ROUTER_WS_CREDENTIAL = "x-router-signature"

ReadinessCheck = Callable[["SubgraphResources"], Awaitable[None]]
ReadinessDetails = Callable[[], dict[str, Any]]


@dataclass(frozen=True)
class SubgraphResources(Resources):
    """A subgraph's lifetime resources: the shared ones plus its access-token verifier and the
    connection its requests' revocation checks share (`shared.key_reads.KeyReads`)."""

    verifier: TokenVerifier
    revocations: KeyReads


ContextFactory = Callable[[Request | WebSocket], Awaitable[SubgraphContext[Any]]]

_CONTEXT_KEY = "bff.graphql_context"


class SubgraphGraphQL(GraphQL[SubgraphContext[Any], None]):
    """`/graphql` over HTTP and WebSocket: Strawberry's own ASGI app, routed as a plain Starlette
    route (no FastAPI dependency injection per request: docs/performance.md). Builds the
    request's context (`context_factory`) and closes it, with a multipart request's files, once
    the response is sent (a WebSocket's once the connection ends). Authenticates WebSocket
    connections from the `connection_init` payload; refuses the WebSocket upgrade on a subgraph
    without subscriptions. A POST of the router's JSON shape skips Strawberry's generic HTTP view
    (`shared.graphql_http`: same answers, byte for byte)."""

    resources: SubgraphResources
    router_secret: str | None = None
    websockets_enabled: bool = False
    context_factory: ContextFactory | None = None
    lean_http: bool = True
    """POST JSON requests of the router's shape take `shared.graphql_http` (False: all take
    Strawberry's view; the differential tests compare the two)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            if scope["type"] == "http":
                request = Request(scope, receive)
                try:
                    response: Response = (
                        await serve_json_post(self, request)
                        if self.lean_http and self._lean_ready and is_json_post(scope)
                        else await self.run(request)
                    )
                except HTTPException as error:
                    response = PlainTextResponse(error.reason, status_code=error.status_code)
                try:
                    await response(scope, receive, send)
                finally:
                    await request.close()  # closes the files of a multipart request
            else:
                await self.run(WebSocket(scope, receive, send))
        finally:
            context: SubgraphContext[Any] | None = scope.pop(_CONTEXT_KEY, None)
            if context is not None:
                await context.close()

    @cached_property
    def _lean_ready(self) -> bool:
        # Decided on the first request, once the app has configured the view.
        return lean_json_post_ready(self)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> SubgraphContext[Any]:
        return await self.request_context(request)

    async def request_context(self, request: Request | WebSocket) -> SubgraphContext[Any]:
        """The request's context (`context_factory`), closed by `__call__`."""
        assert self.context_factory is not None
        context = await self.context_factory(request)
        request.scope[_CONTEXT_KEY] = context  # closed by __call__
        return context

    def _check_websocket_origin(self, request: WebSocket) -> bool:
        # Strawberry answers the handshake with HTTP 403 when this is False, before any hook.
        if not self.websockets_enabled:
            return False
        return super()._check_websocket_origin(request)

    async def parse_multipart(self, request: AsyncHTTPRequestAdapter) -> dict[str, str]:
        # Strawberry turns a `map` it cannot apply into a 500 (AttributeError, ValueError, ...).
        try:
            return await super().parse_multipart(request)
        except (AttributeError, TypeError, ValueError, IndexError) as error:
            raise HTTPException(400, "Malformed multipart request: bad `map`") from error

    def decode_json(self, data: str | bytes) -> object:
        # Nesting past Python's recursion limit is read, then refused as BAD_USER_INPUT.
        return input_guard.decode_json(data)

    def encode_json(self, data: object) -> str:
        # orjson: several times faster than json.dumps (docs/performance.md); what it cannot
        # encode (an integer beyond 64 bits in a JSON scalar) goes the standard way. A str, not
        # bytes: WebSocket messages are encoded here too and must go out as text frames.
        return json_bytes(data).decode()

    async def on_ws_connect(self, context: SubgraphContext[Any]) -> dict[str, Any] | None:
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        if self.router_secret is not None:
            # A fresh, single-use router credential (shared.router_signature): a copy seen once
            # cannot open another connection, and an old one is refused.
            credential = params.get(ROUTER_WS_CREDENTIAL)
            verified = (
                router_signature.verify_ws_credential(self.router_secret, credential)
                if isinstance(credential, str)
                else None
            )
            if verified is None or not await self._first_use(verified.nonce):
                raise ConnectionRejectionError({"code": "FORBIDDEN"})
            context.router_verified = True
        authorization = params.get("Authorization", params.get("authorization"))
        context.principal, context.auth_error = await authenticate(
            authorization, verifier=self.resources.verifier, redis=self.resources.revocations
        )
        return None

    async def _first_use(self, nonce: str) -> bool:
        try:
            stored = await self.resources.redis.set(
                router_signature.ws_nonce_key(nonce),
                "1",
                nx=True,
                ex=2 * router_signature.WS_CREDENTIAL_MAX_AGE_SECONDS,
            )
        except RedisError:  # cannot tell a replay: refuse
            return False
        return bool(stored)


def create_subgraph_app(
    *,
    settings: Settings,
    schema_factory: Callable[[str | None], SubgraphSchema],
    context_class: type[SubgraphContext[DepsT]],
    deps: DepsT,
    background: Sequence[Background] = (),
    routes: Sequence[BaseRoute] = (),
    readiness_checks: Sequence[ReadinessCheck] = (),
    readiness_details: ReadinessDetails | None = None,
) -> FastAPI:
    """The app of one subgraph. `background` parts start in order once the resources exist and
    stop last first; `readiness_checks` run in `/readyz` beside PostgreSQL and Redis;
    `/readyz` reports the outbox backlog plus `readiness_details()` under `"details"`."""
    configure_logging(settings.service_name, settings.log_level, json=settings.log_json)
    telemetry.setup(f"bff-{settings.service_name}")  # OTEL_* variables; nothing when unset
    router_secret = (
        settings.secret("router_hmac_secret") if settings.require_router_signature else None
    )
    schema = schema_factory(router_secret)
    # Outermost, so it also counts operations the request guard refuses.
    schema.extensions = (
        operation_metrics(
            settings.service_name, parse_operation_names(settings.metrics_operation_names)
        ),
        *schema.extensions,
    )
    schema.access_rules.admin_mfa_required = settings.admin_mfa_enforced
    ops = Ops(settings.service_name, ready_timeout_seconds=settings.ready_timeout_seconds)

    def details() -> dict[str, Any]:
        signals: dict[str, Any] = {}
        pending = outbox_pending(settings.service_name)
        if pending is not None:
            signals["outboxPending"] = pending
        if readiness_details is not None:
            signals.update(readiness_details())
        return signals

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not settings.database_url or not settings.redis_url:
            raise RuntimeError("DATABASE_URL and REDIS_URL must be set (make dev sets them)")
        engine = create_engine(
            settings.database_url,
            pool_size=settings.db_pool_size,
            application_name=settings.service_name,
            timeouts=DbTimeouts.from_settings(settings),
        )
        redis = create_redis(
            settings.redis_url,
            socket_timeout=settings.redis_socket_timeout_seconds,
            connect_timeout=settings.redis_connect_timeout_seconds,
        )
        resources = SubgraphResources(
            settings=settings,
            engine=engine,
            sessionmaker=create_sessionmaker(engine),
            redis=redis,
            verifier=deps.token_verifier(settings),
            revocations=KeyReads(redis),
        )
        app.state.resources = resources
        graphql.resources = resources
        try:
            async with running(background, resources):
                extra = [bound(check, resources) for check in readiness_checks]
                ops.check_with([*dependency_checks(resources), *extra])
                ops.details_with(details)
                with lean_gc():
                    yield
                ops.check_with(None)
                ops.details_with(None)
        finally:
            await ops.settle()
            deps.close()
            await resources.revocations.aclose()
            await resources.redis.aclose()
            await engine.dispose()

    async def get_context(connection: Request | WebSocket) -> SubgraphContext[DepsT]:
        resources = graphql.resources
        if connection.scope["type"] == "http":
            principal, auth_error = await authenticate(
                connection.headers.get("authorization"),
                verifier=resources.verifier,
                redis=resources.revocations,
            )
        else:  # WebSocket: authenticated from connection_init, in on_ws_connect
            principal, auth_error = None, None
        return context_class(
            deps=deps,
            request_id=connection.scope.get("state", {}).get("request_id") or uuid.uuid4().hex,
            client_ip=client_ip(connection),
            forwarded_ip=forwarded_ip(connection),
            principal=principal,
            auth_error=auth_error,
            sessionmaker=resources.sessionmaker,
            redis=resources.redis,
        )

    graphql = SubgraphGraphQL(
        schema,
        graphql_ide="graphiql" if not settings.is_production else None,
        multipart_uploads_enabled=True,
    )
    graphql.context_factory = get_context
    graphql.router_secret = router_secret
    graphql.websockets_enabled = schema.subscription is not None

    app = FastAPI(
        title=f"{settings.service_name} subgraph",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        telemetry=telemetry.fastapi_telemetry(),
    )
    app.state.schema = schema
    app.state.deps = deps
    http_route = Route("/graphql", graphql, methods=["GET", "POST"])
    http_route.methods = {"GET", "POST"}  # as FastAPI routed it: HEAD answers 405
    app.router.routes.extend([http_route, WebSocketRoute("/graphql", graphql)])
    for route in routes:
        app.router.routes.append(route)
    ops.install(app)
    telemetry.instrument_app(app)
    return app


GC_GEN0_THRESHOLD = 10_000
"""Allocations between two young-generation collections while serving (CPython's default: 700)."""


@contextmanager
def lean_gc() -> Iterator[None]:
    """While the app serves: what start-up built (modules, the schema, the engine: some 190,000
    objects in payments) frozen out of the cycle collector's scans (`gc.freeze`, after one
    collection so no garbage is frozen), and a young generation of `GC_GEN0_THRESHOLD`.
    The collector took about a fifth of the payments subgraph's CPU under the list query (each
    request allocates thousands of objects, and every older-generation pass walked the
    start-up heap); with this, about a twentieth (docs/performance.md). Reference counting
    frees everything as before; only cyclic garbage waits a little longer. Undone at shut-down."""
    previous = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_GEN0_THRESHOLD, *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()


def bound(check: ReadinessCheck, resources: SubgraphResources) -> Check:
    """A readiness check of this app's resources, keeping its name for the logs."""

    async def run() -> None:
        await check(resources)

    run.__name__ = getattr(check, "__name__", run.__name__)
    return run
