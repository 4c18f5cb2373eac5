"""The periodic reconciliation task every payments process starts (see `sweep.py`).

Every `RECONCILE_INTERVAL_SECONDS` (0 turns it off) each process tries to take a Redis lock
(`SET payments:reconcile:lock <token> NX PX <ttl>`); the one that gets it runs a pass, the others
skip that tick, so one replica at a time asks Razorpay. The lock is released by its holder only
(compare-and-delete) and expires on its own if that process dies. Two passes overlapping after a
very long run would still be safe: sync is idempotent and locks each payment row.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from datetime import timedelta

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.config import PaymentsSettings
from shared.lifetime import Resources
from shared.tasks import raise_if_cancelling, stop_tasks
from subgraphs.payments.provider.razorpay import RazorpayGateway
from subgraphs.payments.reconciliation.sweep import ReconcileReport, reconcile

log = logging.getLogger("bff.payments.reconcile")

LOCK_KEY = "payments:reconcile:lock"
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


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
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> ReconcileReport | None:
        """One pass if this process gets the lock, else None."""
        token = secrets.token_hex(16)
        if not await self._redis.set(LOCK_KEY, token, nx=True, px=self.lock_ttl_ms):
            return None
        try:
            report = await reconcile(
                sessionmaker=self._sessionmaker,
                client=self._gateway,
                older_than=self.older_than,
                limit=self.limit,
                window=self.window,
            )
        finally:
            await self._redis.eval(_RELEASE, 1, LOCK_KEY, token)
        if report.examined or report.refunds_examined or report.errors:
            log.info(
                report.summary(),
                extra={"changed": report.applied, "errors": report.errors},
            )
        return report

    async def _loop(self) -> None:
        while True:
            raise_if_cancelling()
            await asyncio.sleep(self.interval_s)
            try:
                await self.run_once()
            except Exception as exc:  # a failed pass must not end the loop
                log.warning("reconciliation pass failed", extra={"error_type": type(exc).__name__})

    def start(self) -> None:
        if self.interval_s > 0 and self._task is None:
            self._task = asyncio.create_task(self._loop(), name="payments-reconciler")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await stop_tasks(task)


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
