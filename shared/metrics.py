"""The contract's `bff_*` metric families, defined once, with the only label values they may carry.

Every label is bounded: a value comes from a fixed list below (or a configured allow-list of
operation names), and anything else is recorded as `other`. No URL, query string, user id, event
id or free client text ever reaches a label, so a scrape stays the same size whatever clients send.

The families live in one process-wide registry, `REGISTRY` (the code that counts, deep in payments
or the outbox relay, has no app at hand); every process serves it at `/metrics` next to its app's
own registry (`shared.ops.Ops`). Families a process never touches show only their HELP/TYPE lines.

| family | labels |
|---|---|
| `bff_graphql_operations_total` | `service`, `operation_type`, `operation_name`, `outcome` |
| `bff_graphql_operation_duration_seconds` (histogram) | `service`, `operation_type` |
| `bff_payment_transitions_total` | `from_status`, `to_status` |
| `bff_razorpay_requests_total` | `operation`, `outcome` |
| `bff_razorpay_request_duration_seconds` (histogram) | `operation` |
| `bff_circuit_breaker_open` (0/1) | `circuit` |
| `bff_webhook_events_total` | `event_type`, `outcome` |
| `bff_outbox_pending` | `service` |
| `bff_live_subscriptions` | `service` |
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import Final, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from strawberry.extensions import SchemaExtension

T = TypeVar("T")

OTHER: Final = "other"

SERVICES: Final = frozenset({"router", "auth", "payments", "admin", "profile", "webhooks"})
OPERATION_TYPES: Final = frozenset({"query", "mutation", "subscription"})
GRAPHQL_OUTCOMES: Final = frozenset({"success", "error"})
PAYMENT_STATUSES: Final = frozenset(
    {
        "PENDING",
        "INITIATED",
        "PROCESSING",
        "COMPLETED",
        "FAILED",
        "CANCELLED",
        "REFUNDED",
        "PARTIALLY_REFUNDED",
    }
)
RAZORPAY_OPERATIONS: Final = frozenset(
    {
        "order.create",
        "order.all",
        "order.payments",
        "payment.all",
        "payment.fetch",
        "payment.refund",
        "payment.refunds",
        "refund.all",
    }
)
# `success`; `bad_request` (Razorpay answered 4xx: it is up and said no); `circuit_open` (not
# sent); the transport failures of `subgraphs.payments.provider.razorpay._classify`; `cancelled`.
RAZORPAY_OUTCOMES: Final = frozenset(
    {
        "success",
        "bad_request",
        "circuit_open",
        "connect_timeout",
        "timeout",
        "connection_error",
        "non_json_response",
        "server_error",
        "unexpected_response",
        "cancelled",
    }
)
CIRCUITS: Final = frozenset({"razorpay"})
WEBHOOK_EVENT_TYPES: Final = frozenset(
    {
        "payment.authorized",
        "payment.captured",
        "payment.failed",
        "order.paid",
        "refund.created",
        "refund.processed",
        "refund.failed",
    }
)
# One count per delivery (stored, duplicate, or why it was refused) and one per apply attempt
# (applied, unchanged, ignored, or why it did not finish). Failure outcomes are the rest.
WEBHOOK_DELIVERY_OUTCOMES: Final = frozenset(
    {"stored", "duplicate", "invalid_signature", "not_event", "too_large", "unavailable"}
)
WEBHOOK_APPLY_OUTCOMES: Final = frozenset(
    {"applied", "unchanged", "ignored", "unknown_order", "mismatch", "error", "timeout"}
)
WEBHOOK_OK_OUTCOMES: Final = frozenset({"stored", "duplicate", "applied", "unchanged", "ignored"})

DURATION_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REGISTRY: Final = CollectorRegistry()

GRAPHQL_OPERATIONS: Final = Counter(
    "bff_graphql_operations_total",
    "GraphQL operations executed, by service, type, (allow-listed) name and outcome",
    ["service", "operation_type", "operation_name", "outcome"],
    registry=REGISTRY,
)
GRAPHQL_DURATION: Final = Histogram(
    "bff_graphql_operation_duration_seconds",
    "Time to execute a GraphQL operation (to the first result of a subscription)",
    ["service", "operation_type"],
    buckets=DURATION_BUCKETS,
    registry=REGISTRY,
)
PAYMENT_TRANSITIONS: Final = Counter(
    "bff_payment_transitions_total",
    "Committed payment status changes, by status before and after",
    ["from_status", "to_status"],
    registry=REGISTRY,
)
RAZORPAY_REQUESTS: Final = Counter(
    "bff_razorpay_requests_total",
    "Calls to Razorpay's API (each attempt), by operation and outcome",
    ["operation", "outcome"],
    registry=REGISTRY,
)
RAZORPAY_DURATION: Final = Histogram(
    "bff_razorpay_request_duration_seconds",
    "Duration of the calls to Razorpay's API that were sent",
    ["operation"],
    buckets=DURATION_BUCKETS,
    registry=REGISTRY,
)
CIRCUIT_OPEN: Final = Gauge(
    "bff_circuit_breaker_open",
    "1 while a circuit breaker is not closed (open or waiting for its trial call), else 0",
    ["circuit"],
    registry=REGISTRY,
)
WEBHOOK_EVENTS: Final = Counter(
    "bff_webhook_events_total",
    "Razorpay webhook deliveries (stored, duplicate, refused) and apply attempts, by outcome",
    ["event_type", "outcome"],
    registry=REGISTRY,
)
OUTBOX_PENDING: Final = Gauge(
    "bff_outbox_pending",
    "Committed outbox rows not yet published to Redis Streams (as last counted by the relay)",
    ["service"],
    registry=REGISTRY,
)
LIVE_SUBSCRIPTIONS: Final = Gauge(
    "bff_live_subscriptions",
    "Live GraphQL subscriptions served by this process",
    ["service"],
    registry=REGISTRY,
)


def bounded(value: str | None, allowed: Iterable[str]) -> str:
    """`value` when it is one of `allowed`, else `other`."""
    return value if value is not None and value in allowed else OTHER


# -- GraphQL operations ---------------------------------------------------------------------------


def parse_operation_names(raw: str | None) -> frozenset[str]:
    """The allow-list of operation names (comma or whitespace separated; blanks dropped)."""
    if not raw:
        return frozenset()
    return frozenset(name for name in raw.replace(",", " ").split() if name)


class OperationMetrics(SchemaExtension):
    """Counts every operation of a service (`operation_metrics` makes one subclass per service,
    with its labels). A query or mutation is counted when its operation ends; a subscription
    once it is established (its `on_operation` lasts as long as the stream), or when it fails
    before."""

    service_label: str = OTHER
    known_operation_names: frozenset[str] = frozenset()
    recorded = False

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        failed = True
        try:
            yield
            failed = bool(self.execution_context.pre_execution_errors)
        finally:
            if not self.recorded:
                self._record(time.perf_counter() - started, failed)

    def on_execute(self) -> Iterator[None]:
        started = time.perf_counter()
        if self._operation_type() != "subscription":
            yield
            return
        failed = True
        try:
            yield
            failed = bool(self.execution_context.pre_execution_errors)
        finally:
            self._record(time.perf_counter() - started, failed)

    def _operation_type(self) -> str:
        try:
            operation_type = self.execution_context.operation_type.value
        except Exception:  # not parsed, no such operation: nothing the client named counts
            return OTHER
        return bounded(operation_type, OPERATION_TYPES)

    def _record(self, duration: float, failed: bool) -> None:
        self.recorded = True
        operation_type = self._operation_type()
        name = bounded(self.execution_context.operation_name, self.known_operation_names)
        service_label = self.service_label
        GRAPHQL_OPERATIONS.labels(
            service=service_label,
            operation_type=operation_type,
            operation_name=name,
            outcome="error" if failed else "success",
        ).inc()
        GRAPHQL_DURATION.labels(service=service_label, operation_type=operation_type).observe(
            duration
        )


def operation_metrics(
    service: str, known_operation_names: frozenset[str] = frozenset()
) -> type[OperationMetrics]:
    """A Strawberry extension counting every operation of `service`: `operation_name` is the
    client's name only when it is in `known_operation_names` (no persisted documents exist yet,
    so this allow-list is the only way a name becomes a label), else `other`."""
    return type(
        "OperationMetrics",
        (OperationMetrics,),
        {
            "service_label": bounded(service, SERVICES),
            "known_operation_names": known_operation_names,
        },
    )


# -- payments -----------------------------------------------------------------------------------


def count_transition(from_status: str, to_status: str) -> None:
    PAYMENT_TRANSITIONS.labels(
        from_status=bounded(from_status, PAYMENT_STATUSES),
        to_status=bounded(to_status, PAYMENT_STATUSES),
    ).inc()


def count_razorpay_request(operation: str, outcome: str, duration: float | None) -> None:
    """One attempt; `duration` None when nothing was sent (an open circuit)."""
    op = bounded(operation, RAZORPAY_OPERATIONS)
    RAZORPAY_REQUESTS.labels(operation=op, outcome=bounded(outcome, RAZORPAY_OUTCOMES)).inc()
    if duration is not None:
        RAZORPAY_DURATION.labels(operation=op).observe(duration)


def _weakly(method: Callable[[], T]) -> Callable[[], T | None]:
    """Call a bound method held weakly (None once its object is gone): a stopped app's parts are
    not kept alive by the gauges that read them."""
    ref = weakref.WeakMethod(method)  # TypeError unless `method` is a bound method

    def call() -> T | None:
        target = ref()
        return None if target is None else target()

    return call


def watch_circuit(name: str, is_open: Callable[[], bool]) -> None:
    """Report the bound method `is_open()` (read at scrape time) as
    `bff_circuit_breaker_open{circuit=name}`; 0 once its breaker is gone."""
    read = _weakly(is_open)
    CIRCUIT_OPEN.labels(circuit=bounded(name, CIRCUITS)).set_function(
        lambda: 1.0 if read() else 0.0
    )


def count_webhook_event(event_type: str | None, outcome: str) -> None:
    allowed = WEBHOOK_DELIVERY_OUTCOMES | WEBHOOK_APPLY_OUTCOMES
    WEBHOOK_EVENTS.labels(
        event_type=bounded(event_type, WEBHOOK_EVENT_TYPES), outcome=bounded(outcome, allowed)
    ).inc()


# -- outbox and live updates ---------------------------------------------------------------------


def set_outbox_pending(service: str, pending: int) -> None:
    OUTBOX_PENDING.labels(service=bounded(service, SERVICES)).set(pending)


def outbox_pending(service: str) -> int | None:
    """The last count the relay of `service` reported in this process (None: none yet)."""
    label = bounded(service, SERVICES)
    for metric in OUTBOX_PENDING.collect():
        for sample in metric.samples:
            if sample.labels.get("service") == label:
                return int(sample.value)
    return None


def watch_live_subscriptions(service: str, count: Callable[[], int]) -> None:
    """Report the bound method `count()` (read at scrape time) as
    `bff_live_subscriptions{service}`; 0 once its hub is gone."""
    read = _weakly(count)
    LIVE_SUBSCRIPTIONS.labels(service=bounded(service, SERVICES)).set_function(
        lambda: float(read() or 0)
    )
