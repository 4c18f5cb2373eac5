"""The background worker: applies stored events that are due (their first attempt failed, was cut
short, or never ran), with exponential backoff, until they are done or parked; and, at most every
`PRUNE_INTERVAL`, deletes events applied more than the retention period ago (never one that is
waiting or parked), `PRUNE_BATCH` rows per transaction."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.lifetime import Resources
from shared.tasks import raise_if_cancelling, stop_tasks
from subgraphs.payments.webhooks import store
from subgraphs.payments.webhooks.dispatch import RetryPolicy, apply_stored_event
from subgraphs.payments.webhooks.metrics import WebhookMetrics

log = logging.getLogger("webhooks.worker")

PRUNE_INTERVAL = timedelta(hours=1)
PRUNE_BATCH = 1_000
DEFAULT_RETENTION = timedelta(days=30)


class WebhookWorker:
    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        policy: RetryPolicy,
        metrics: WebhookMetrics,
        interval_seconds: float,
        batch_size: int,
        retention: timedelta = DEFAULT_RETENTION,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.policy = policy
        self.metrics = metrics
        self.interval_seconds = interval_seconds
        self.batch_size = batch_size
        self.retention = retention
        self._pruned_at: datetime | None = None
        self.backlog: dict[str, int] | None = None  # last counted: waiting, parked (/readyz)
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

    async def prune(self, now: datetime | None = None) -> int:
        """Delete the events applied before `now - retention`; how many were deleted."""
        now = now or datetime.now(UTC)
        deleted = 0
        while True:
            async with self.sessionmaker() as session, session.begin():
                batch = await store.prune(
                    session=session, applied_before=now - self.retention, limit=PRUNE_BATCH
                )
            deleted += batch
            if batch < PRUNE_BATCH:
                break
        self._pruned_at = now
        if deleted:
            log.info("webhook events pruned", extra={"deleted": deleted})
        return deleted

    async def _prune_when_due(self) -> None:
        now = datetime.now(UTC)
        if self._pruned_at is None or now - self._pruned_at >= PRUNE_INTERVAL:
            await self.prune(now)

    async def refresh_gauges(self) -> None:
        async with self.sessionmaker() as session:
            waiting, parked = await store.backlog(session=session)
        self.metrics.backlog.set(waiting)
        self.metrics.parked_now.set(parked)
        self.backlog = {"waiting": waiting, "parked": parked}

    async def _loop(self) -> None:
        while True:
            raise_if_cancelling()
            try:
                await self.run_once()
                await self._prune_when_due()
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
