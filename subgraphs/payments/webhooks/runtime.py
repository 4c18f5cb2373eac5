"""What a running sidecar holds for its lifetime (`app.state.webhooks`)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.config import WebhookSettings
from shared.lifetime import Resources
from subgraphs.payments.webhooks.dispatch import RetryPolicy
from subgraphs.payments.webhooks.ingest import GroupCommit
from subgraphs.payments.webhooks.metrics import WebhookMetrics
from subgraphs.payments.webhooks.worker import WebhookWorker


@dataclass(frozen=True)
class Runtime(Resources):
    """The shared resources (engine, sessions, Redis) plus the sidecar's own parts."""

    settings: WebhookSettings
    metrics: WebhookMetrics
    policy: RetryPolicy
    worker: WebhookWorker
    ingest: GroupCommit
