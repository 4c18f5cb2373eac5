"""The background worker: applies stored events that are due (their first attempt failed, was cut
short, or never ran), with exponential backoff, until they are done or parked."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.lifetime import Resources
from shared.tasks import stop_tasks
from subgraphs.payments.webhooks import store
from subgraphs.payments.webhooks.dispatch import RetryPolicy, apply_stored_event
from subgraphs.payments.webhooks.metrics import WebhookMetrics

log = logging.getLogger("webhooks.worker")


class WebhookWorker:
    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        policy: RetryPolicy,
        metrics: WebhookMetrics,
        interval_seconds: float,
        batch_size: int,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.policy = policy
        self.metrics = metrics
        self.interval_seconds = interval_seconds
        self.batch_size = batch_size
        self._task: asyncio.Task[None] | None = None

    async def run_once(self, now: datetime | None = None) -> int:
        """Apply up to `batch_size` events due by `now`, one transaction each; how many were
        attempted."""
        attempted = 0
        while attempted < self.batch_size:
            row = await apply_stored_event(
                sessionmaker=self.sessionmaker,
                policy=self.policy,
                metrics=self.metrics,
                path="worker",
                now=now,
            )
            if row is None:
                break
            attempted += 1
        await self.refresh_gauges()
        return attempted

    async def refresh_gauges(self) -> None:
        async with self.sessionmaker() as session:
            waiting, parked = await store.backlog(session=session)
        self.metrics.backlog.set(waiting)
        self.metrics.parked_now.set(parked)

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                # The database may be down: keep polling, Razorpay's events are safe in the table.
                log.warning("webhook worker pass failed", exc_info=True)
            await asyncio.sleep(self.interval_seconds)

    async def start(self, resources: Resources | None = None) -> None:
        """A background part of the sidecar (`shared.lifetime.Background`); it works with the
        sessionmaker it was built with."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="webhook-worker")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await stop_tasks(task)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()
