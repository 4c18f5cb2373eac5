"""The nightly ledger verification every payments process starts (a `shared.lifetime` part).

Every `LEDGER_VERIFY_INTERVAL_SECONDS` (default a day; 0 turns it off) one replica (a Redis lock,
as for reconciliation) recomputes the whole chain in batches of `LEDGER_VERIFY_BATCH_SIZE` rows
(`verify.py`: memory stays one batch). It sets the gauge `bff_ledger_broken` (1 when broken,
else 0) and, when broken, writes the outbox event `payments:ledger:broken` (admin's audit
consumer records it; alerting watches the gauge) and logs an error naming the first broken row.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Gauge
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.config import PaymentsSettings
from shared.lifetime import Resources
from shared.redis import run_locked
from shared.tasks import Periodic
from subgraphs.payments import repository as repo
from subgraphs.payments.enums import EventType
from subgraphs.payments.ledger.verify import Verification, verify_ledger

log = logging.getLogger("bff.payments.ledger")

LOCK_KEY = "payments:ledger-verify:lock"


class LedgerMetrics:
    def __init__(self) -> None:
        self.broken = Gauge(
            "bff_ledger_broken",
            "1 when the last ledger verification found a broken hash chain, else 0",
            registry=None,
        )

    def register(self, registry: CollectorRegistry) -> None:
        registry.register(self.broken)


class LedgerVerifier:
    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        redis: Redis,
        interval_seconds: float,
        batch_size: int,
        metrics: LedgerMetrics,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._redis = redis
        self.interval_s = interval_seconds
        self.batch_size = batch_size
        self.metrics = metrics
        self.lock_ttl_ms = int(max(min(interval_seconds, 3600.0), 300.0) * 1000)
        self._periodic = Periodic(
            name="payments-ledger-verifier",
            interval_s=interval_seconds,
            job=self.run_once,
            logger=log,
            failure="ledger verification failed",
        )

    async def run_once(self) -> Verification | None:
        """One verification if this process gets the lock, else None."""
        result = await run_locked(self._redis, LOCK_KEY, self.lock_ttl_ms, self._verify)
        if result is None:
            return None
        self.metrics.broken.set(0 if result.ok else 1)
        if not result.ok:
            await self._report(result)
        return result

    async def _verify(self) -> Verification:
        return await verify_ledger(db=self._sessionmaker, batch_size=self.batch_size)

    async def _report(self, result: Verification) -> None:
        broken = str(result.first_broken_entry_id) if result.first_broken_entry_id else None
        log.error(
            "the ledger's hash chain is broken",
            extra={"first_broken_entry": broken, "checked": result.checked_entries},
        )
        async with self._sessionmaker() as session:
            repo.add_event(
                session=session,
                type=EventType.LEDGER_BROKEN,
                actor_id=None,
                occurred_at=datetime.now(UTC),
                data={"firstBrokenEntryId": broken, "checkedEntries": result.checked_entries},
            )
            await session.commit()

    def start(self) -> None:
        self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()


class LedgerVerifierTask:
    """The verifier as a background part of the payments app (`shared.lifetime.Background`)."""

    def __init__(self, settings: PaymentsSettings, metrics: LedgerMetrics | None = None) -> None:
        self.settings = settings
        self.metrics = metrics or LedgerMetrics()
        self.verifier: LedgerVerifier | None = None

    async def start(self, resources: Resources) -> None:
        if self.verifier is None:
            self.verifier = LedgerVerifier(
                sessionmaker=resources.sessionmaker,
                redis=resources.redis,
                interval_seconds=self.settings.ledger_verify_interval_seconds,
                batch_size=self.settings.ledger_verify_batch_size,
                metrics=self.metrics,
            )
            self.verifier.start()

    async def stop(self) -> None:
        verifier, self.verifier = self.verifier, None
        if verifier is not None:
            await verifier.stop()
