"""What a running sidecar holds for its lifetime (`app.state.webhooks`)."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.config import WebhookSettings
from subgraphs.payments.webhooks.dispatch import RetryPolicy
from subgraphs.payments.webhooks.metrics import WebhookMetrics
from subgraphs.payments.webhooks.worker import WebhookWorker


@dataclass
class Runtime:
    settings: WebhookSettings
    metrics: WebhookMetrics
    policy: RetryPolicy
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis
    worker: WebhookWorker
