"""The periodic reconciliation task every payments process starts (see `sweep.py`).

Every `RECONCILE_INTERVAL_SECONDS` (0 turns it off) each process tries to take a Redis lock
(`SET payments:reconcile:lock <token> NX PX <ttl>`); the one that gets it runs a pass, the others
skip that tick, so one replica at a time asks Razorpay. The lock is released by its holder only
(compare-and-delete) and expires on its own if that process dies. Two passes overlapping after a
very long run would still be safe: sync is idempotent and locks each payment row.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.config import PaymentsSettings
from shared.lifetime import Resources
from shared.redis import run_locked
from shared.tasks import Periodic
from subgraphs.payments.provider.razorpay import RazorpayGateway
from subgraphs.payments.reconciliation.sweep import ReconcileReport, reconcile

log = logging.getLogger("bff.payments.reconcile")

LOCK_KEY = "payments:reconcile:lock"


class Reconciler:
    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        redis: Redis,
        gateway: RazorpayGateway,
        settings: PaymentsSettings,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._redis = redis
        self._gateway = gateway
        self.interval_s = settings.reconcile_interval_seconds
        self.older_than = timedelta(seconds=settings.reconcile_older_than_seconds)
        self.window = timedelta(seconds=settings.reconcile_window_seconds)
        self.limit = settings.reconcile_batch_size
        self.lock_ttl_ms = int(max(self.interval_s * 5, 300.0) * 1000)
        self._periodic = Periodic(
            name="payments-reconciler",
            interval_s=self.interval_s,
            job=self.run_once,
            logger=log,
            failure="reconciliation pass failed",
        )

    async def run_once(self) -> ReconcileReport | None:
        """One pass if this process gets the lock, else None."""
        report = await run_locked(self._redis, LOCK_KEY, self.lock_ttl_ms, self._reconcile)
        if report is not None and (report.examined or report.refunds_examined or report.errors):
            log.info(
                report.summary(),
                extra={"changed": report.applied, "errors": report.errors},
            )
        return report

    async def _reconcile(self) -> ReconcileReport:
        return await reconcile(
            sessionmaker=self._sessionmaker,
            client=self._gateway,
            older_than=self.older_than,
            limit=self.limit,
            window=self.window,
        )

    def start(self) -> None:
        self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()


class ReconcilerTask:
    """The reconciler as a background part of the payments app (`shared.lifetime.Background`)."""

    def __init__(self, gateway: RazorpayGateway, settings: PaymentsSettings) -> None:
        self.gateway = gateway
        self.settings = settings
        self.reconciler: Reconciler | None = None

    async def start(self, resources: Resources) -> None:
        if self.reconciler is None:
            self.reconciler = Reconciler(
                sessionmaker=resources.sessionmaker,
                redis=resources.redis,
                gateway=self.gateway,
                settings=self.settings,
            )
            self.reconciler.start()

    async def stop(self) -> None:
        reconciler, self.reconciler = self.reconciler, None
        if reconciler is not None:
            await reconciler.stop()
