"""Prometheus metrics of the sidecar (one registry per app, served at /metrics next to the
process-wide `bff_*` families of `shared.metrics`).

The contract's `bff_webhook_events_total{event_type,outcome}` counts each delivery once (`stored`,
`duplicate`, `invalid_signature`, `not_event`, `too_large`, `unavailable`) and each apply attempt
once (`applied`, `unchanged`, `ignored`, `unknown_order`, `mismatch`, `error`, `timeout`);
`event_type` is one of the handled Razorpay event types or `other` (`shared.metrics`). The
families below are the sidecar's finer-grained counters, kept for its runbooks."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class WebhookMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.received = Counter(
            "webhook_deliveries_received", "POSTs to /webhooks/razorpay", registry=r
        )
        self.stored = Counter(
            "webhook_events_stored", "New events stored", ["event_type"], registry=r
        )
        self.duplicates = Counter(
            "webhook_events_duplicate", "Deliveries of an event id already stored", registry=r
        )
        self.invalid_signatures = Counter(
            "webhook_signatures_invalid",
            "Deliveries refused for their signature (no_secret, missing, mismatch)",
            ["reason"],
            registry=r,
        )
        self.valid_signatures = Counter(
            "webhook_signatures_valid",
            "Deliveries whose signature matched, by secret (current, previous)",
            ["secret"],
            registry=r,
        )
        self.rejected = Counter(
            "webhook_deliveries_rejected",
            "Deliveries refused after a valid signature or before reading (not_event, too_large)",
            ["reason"],
            registry=r,
        )
        self.unavailable = Counter(
            "webhook_store_unavailable",
            "Deliveries answered 503: the event could not be stored",
            registry=r,
        )
        self.applied = Counter(
            "webhook_events_applied",
            "Events done (outcome applied, unchanged, ignored), by path (request, worker)",
            ["outcome", "path"],
            registry=r,
        )
        self.failures = Counter(
            "webhook_apply_failures",
            "Apply attempts that did not finish (unknown_order, mismatch, error, timeout)",
            ["outcome", "path"],
            registry=r,
        )
        self.parked = Counter(
            "webhook_events_parked",
            "Events given up on, waiting for a human",
            ["outcome"],
            registry=r,
        )
        self.backlog = Gauge(
            "webhook_events_waiting", "Stored events not yet applied nor parked", registry=r
        )
        self.parked_now = Gauge("webhook_events_parked_now", "Parked events", registry=r)
        self.latency = Histogram(
            "webhook_response_seconds",
            "Time to answer a delivery",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0),
            registry=r,
        )
