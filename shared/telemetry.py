"""OpenTelemetry traces for every Python process (the four subgraphs, the webhook sidecar),
configured only by the standard `OTEL_*` variables.

- `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) unset, or
  `OTEL_SDK_DISABLED=true`, or `OTEL_TRACES_EXPORTER=none`: `setup` installs nothing. The SDK is
  not even imported, no middleware, no database or Redis hooks, no GraphQL extension: the only
  cost left is one boolean test per log line.
- Set: an OTLP/HTTP protobuf exporter (`OTEL_EXPORTER_OTLP_PROTOCOL`, default and only value
  accepted `http/protobuf`; the exporter reads the endpoint, headers and timeouts itself), a
  batch span processor (`OTEL_BSP_*`), the sampler of `OTEL_TRACES_SAMPLER`/`_ARG` (default
  `parentbased_always_on`), the resource of `OTEL_RESOURCE_ATTRIBUTES` with `service.name` from
  `OTEL_SERVICE_NAME`, else the process's default (`bff-auth`, `bff-payments`, `bff-admin`,
  `bff-profile`, `bff-webhooks`). W3C `traceparent` (the API's default propagators).
- Instrumentations: FastAPI/ASGI (`instrument_app`; health, readiness and metrics routes left
  out), SQLAlchemy per engine (`instrument_engine`: `db.system` = `postgresql`), redis-py,
  requests (the razorpay SDK) and httpx; GraphQL operation and resolver spans
  (`GraphQLTracing`, a Strawberry extension, only installed while tracing).
- Database and Redis calls of background loops (the outbox relay's polls, the workers) have no
  parent span: they are dropped (`NoOrphanClientSpans`) rather than exported as a trace each.
- `current_traceparent` / `links_to`: the trace context travels with an outbox event and the
  live-update message it causes, so the subscription push links back to the trace (a webhook's,
  a mutation's) that changed the payment.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from inspect import isawaitable
from typing import TYPE_CHECKING, Any, Final

from opentelemetry import trace
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind, Status, StatusCode, TraceState
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from strawberry.extensions import SchemaExtension
from strawberry.extensions.utils import is_introspection_field
from strawberry.resolvers import is_default_resolver

if TYPE_CHECKING:
    from fastapi import FastAPI
    from fastapi.telemetry import TelemetryConfig
    from graphql import GraphQLResolveInfo
    from opentelemetry.context import Context
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.util.types import Attributes
    from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger("bff.telemetry")

SUPPORTED_PROTOCOL: Final = "http/protobuf"
NOT_TRACED_URLS: Final = "/healthz,/readyz,/metrics"
TRACER_NAME: Final = "payments-bff"
TRACEPARENT: Final = "traceparent"

_W3C = TraceContextTextMapPropagator()
_provider: TracerProvider | None = None


def _env(name: str) -> str:
    return os.environ.get(name, "").strip()


def export_endpoint() -> str | None:
    """Where traces go, or None when tracing is off (see the module docstring)."""
    if _env("OTEL_SDK_DISABLED").lower() == "true" or _env("OTEL_TRACES_EXPORTER") == "none":
        return None
    return _env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or _env("OTEL_EXPORTER_OTLP_ENDPOINT") or None


def enabled() -> bool:
    """Whether this process records and exports traces."""
    return _provider is not None


def fastapi_telemetry() -> TelemetryConfig | None:
    """FastAPI's `telemetry=` for an app of this process: its own OpenTelemetry layer asks on
    every request whether a provider is configured (an os.environ lookup in opentelemetry's
    `get_tracer_provider`: 11% of the webhook sidecar's CPU per delivery, about 1% of the
    payments subgraph's under the list query). Off while this process does not trace; FastAPI's
    defaults (None) when it does."""
    return None if enabled() else {"tracing": False, "metrics": False, "logs": False}


def setup(default_service_name: str) -> bool:
    """Install the SDK and the process-wide instrumentations once; True when tracing is on."""
    global _provider
    if _provider is not None:
        return True
    if export_endpoint() is None:
        return False
    protocol = _env("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or _env("OTEL_EXPORTER_OTLP_PROTOCOL")
    if protocol and protocol != SUPPORTED_PROTOCOL:
        log.error(
            "OTEL_EXPORTER_OTLP_PROTOCOL is not supported here: traces are NOT exported",
            extra={"protocol": protocol, "supported": SUPPORTED_PROTOCOL},
        )
        return False
    _provider = _install(default_service_name)
    return True


def _install(default_service_name: str) -> TracerProvider:
    # Imported here: a process without an endpoint never loads the SDK.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.instrumentation.requests import RequestsInstrumentor
    from opentelemetry.sdk.resources import SERVICE_NAME, OTELResourceDetector, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import _get_from_env_or_default

    # OTEL_SERVICE_NAME, else service.name of OTEL_RESOURCE_ATTRIBUTES, else ours.
    from_env = OTELResourceDetector().detect().attributes.get(SERVICE_NAME)
    resource = Resource.create({SERVICE_NAME: str(from_env or default_service_name)})
    provider = TracerProvider(
        resource=resource, sampler=NoOrphanClientSpans(_get_from_env_or_default())
    )
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    RedisInstrumentor().instrument(tracer_provider=provider)
    RequestsInstrumentor().instrument(tracer_provider=provider)
    HTTPXClientInstrumentor().instrument(tracer_provider=provider)
    log.info(
        "tracing enabled",
        extra={"service_name": resource.attributes.get(SERVICE_NAME), "exporter": "otlp"},
    )
    return provider


class NoOrphanClientSpans(Sampler):
    """A CLIENT span (SQL, Redis, outgoing HTTP) without a parent is dropped; everything else is
    decided by the configured sampler. Background loops poll the database every second: each
    poll would otherwise be a trace of its own."""

    def __init__(self, delegate: Sampler) -> None:
        self.delegate = delegate

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        parent = trace.get_current_span(parent_context).get_span_context()
        if kind is SpanKind.CLIENT and not parent.is_valid:
            return SamplingResult(Decision.DROP)
        return self.delegate.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"NoOrphanClientSpans{{{self.delegate.get_description()}}}"


def instrument_app(app: FastAPI) -> None:
    """Server spans for the app's HTTP requests and WebSocket connections (continuing the
    caller's `traceparent`), when tracing is on."""
    if _provider is None:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=_provider,
        excluded_urls=_env("OTEL_PYTHON_FASTAPI_EXCLUDED_URLS") or NOT_TRACED_URLS,
        exclude_spans=["receive", "send"],
    )


def instrument_engine(engine: AsyncEngine) -> None:
    """A span per SQL statement of this engine (`db.system` = `postgresql`), when tracing is on."""
    if _provider is None:
        return
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    # `instrument()` works once per process; its per-engine part is the EngineTracer it returns,
    # reached the documented way on first use and through `_instrument` for later engines.
    # skip_dep_check: the instrumentation (0.66b2) declares sqlalchemy < 2.1 and refuses 2.1.x
    # without a word in the traces; its engine events are unchanged in 2.1
    # (tests/telemetry proves the SQL spans arrive).
    instrumentor = SQLAlchemyInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument(
            engine=engine.sync_engine, tracer_provider=_provider, skip_dep_check=True
        )
    else:
        instrumentor._instrument(engine=engine.sync_engine, tracer_provider=_provider)  # type: ignore[no-untyped-call]


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME)


def current_ids() -> tuple[str, str] | None:
    """(trace_id, span_id) of the span being served, in hex, for log lines."""
    if _provider is None:
        return None
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def current_traceparent() -> str | None:
    """The W3C `traceparent` of the current span, to carry in an event; None when not traced."""
    if _provider is None:
        return None
    carrier: dict[str, str] = {}
    _W3C.inject(carrier)
    return carrier.get(TRACEPARENT)


def links_to(*traceparents: str | None) -> list[Link]:
    """Span links to the traces these `traceparent` values name (bad or missing ones skipped)."""
    links = []
    for value in traceparents:
        if not value:
            continue
        context = trace.get_current_span(_W3C.extract({TRACEPARENT: value})).get_span_context()
        if context.is_valid:
            links.append(Link(context))
    return links


@contextmanager
def linked_span(
    name: str,
    traceparents: Sequence[str | None],
    *,
    kind: SpanKind = SpanKind.PRODUCER,
    attributes: Attributes = None,
) -> Iterator[None]:
    """A span of its own (the current span's child, or a new trace) linked to the traces these
    `traceparent` values name; nothing while tracing is off."""
    if _provider is None:
        yield
        return
    with tracer().start_as_current_span(
        name, kind=kind, links=links_to(*traceparents), attributes=attributes
    ):
        yield


# ------------------------------------------------------------------------------- GraphQL


@dataclass
class AccessRecord:
    """What the access-log line of a request learns on the way (the GraphQL operation name)."""

    operation_name: str | None = None


access_record: ContextVar[AccessRecord | None] = ContextVar("access_record", default=None)


def record_operation(name: str | None) -> None:
    """Tell the access log of the request being served which operation it ran."""
    record = access_record.get()
    if record is not None and name:
        record.operation_name = name[:100]


class OperationName(SchemaExtension):
    """Tells the access log which operation a request ran (`shared.schema.SubgraphOperation`
    does it too: this one is the base of `GraphQLTracing`)."""

    def on_operation(self) -> Iterator[None]:
        yield
        record_operation(self.execution_context.operation_name)


_traced_fields: dict[tuple[str, str], bool] = {}


def _is_traced(info: GraphQLResolveInfo[Any]) -> bool:
    key = (info.parent_type.name, info.field_name)
    traced = _traced_fields.get(key)
    if traced is None:
        field = info.parent_type.fields.get(info.field_name)
        traced = _traced_fields[key] = not (
            field is None
            or field.resolve is None
            or is_default_resolver(field.resolve)
            or is_introspection_field(info)
        )
    return traced


class GraphQLTracing(OperationName):
    """An operation span (`query Name`) and a span per field with a resolver of its own
    (`resolve Type.field`; fields read from an attribute get none). Arguments are never recorded:
    they carry passwords, tokens and personal data."""

    _operation: trace.Span

    def on_operation(self) -> Iterator[None]:
        execution = self.execution_context
        self._operation = span = tracer().start_span("graphql.operation", kind=SpanKind.SERVER)
        self._parent = trace.set_span_in_context(span)
        try:
            yield
        finally:
            name = execution.operation_name
            try:
                kind = execution.operation_type.value
            except Exception:  # not parsed: the document was refused
                kind = "operation"
            span.update_name(f"{kind} {name}" if name else kind)
            span.set_attribute("graphql.operation.type", kind)
            if name:
                span.set_attribute("graphql.operation.name", name)
            errors = execution.pre_execution_errors or (
                execution.result.errors if execution.result is not None else None
            )
            if errors:
                span.set_status(Status(StatusCode.ERROR))
                codes = {
                    str((e.extensions or {}).get("code", "INTERNAL_SERVER_ERROR")) for e in errors
                }
                span.set_attribute("graphql.error.codes", sorted(codes))
            span.end()
            record_operation(name)

    def resolve(
        self,
        _next: Callable[..., Any],
        root: Any,
        info: GraphQLResolveInfo[Any],
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        if not _is_traced(info):
            return _next(root, info, *args, **kwargs)
        span = tracer().start_span(
            f"resolve {info.parent_type.name}.{info.field_name}",
            context=self._parent,
            attributes={"graphql.field.name": info.field_name},
        )
        try:
            with trace.use_span(span, end_on_exit=False):
                result = _next(root, info, *args, **kwargs)
        except BaseException:
            span.end()
            raise
        if not isawaitable(result):
            span.end()
            return result
        return _awaited(span, result)


async def _awaited(span: trace.Span, result: Any) -> Any:
    # The resolver's coroutine runs here, under its span: its SQL and Redis spans nest in it.
    with trace.use_span(span, end_on_exit=True):
        return await result
