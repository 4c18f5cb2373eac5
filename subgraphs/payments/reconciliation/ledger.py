"""Reconciling one UTC day of the ledger with Razorpay's own lists (payments and refunds created
that day: `GET /v1/payments?from=&to=&count=&skip=`, `GET /v1/refunds?...`, paged).

Compared per Razorpay payment: the gross amount our capture rows booked (credits of `capture`,
`platform_fee`, `late_capture` rows) and Razorpay's fee (`psp_fees` + `psp_tax` debits) against a
captured (or refunded) payment's `amount` and `fee`; per Razorpay refund: what our `refund` rows
took out of `razorpay_clearing` (less reversals) against a processed refund's `amount` (0 for a
failed one). Each difference is a `Mismatch`, reported as the outbox event
`payments:ledger:mismatch` (admin's audit consumer records it) and logged. The ledger is never
edited here: a correction is a new, reversing entry made by whoever resolves the finding.

Run daily for the previous day by `LedgerReconcilerTask` (every `LEDGER_RECONCILE_INTERVAL_SECONDS`,
one replica through a Redis lock) and on demand:
`python -m subgraphs.payments.reconciliation.ledger [--day YYYY-MM-DD]`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.config import PaymentsSettings, payments_settings
from shared.db import create_engine, create_sessionmaker
from shared.lifetime import Resources
from shared.redis import run_locked
from shared.tasks import Periodic
from subgraphs.payments import repository as repo
from subgraphs.payments.enums import EventType
from subgraphs.payments.provider.razorpay import RazorpayGateway

log = logging.getLogger("bff.payments.reconcile")

ItemT = TypeVar("ItemT")
PAGE = 100
MAX_PAGES = 1000  # a day of at most 100,000 payments per list: bounded
LOCK_KEY = "payments:ledger-reconcile:lock"

_CAPTURES = text(
    """
    SELECT p.razorpay_payment_id AS provider_id, e.currency,
           SUM(CASE WHEN e.direction = 'CREDIT'
                     AND e.kind IN ('capture', 'platform_fee', 'late_capture')
                    THEN e.amount_minor ELSE 0 END) AS gross,
           SUM(CASE WHEN e.account IN ('psp_fees', 'psp_tax') AND e.direction = 'DEBIT'
                    THEN e.amount_minor ELSE 0 END) AS psp_fee
    FROM payments.ledger_entries e
    JOIN payments.payments p ON p.id = e.payment_id
    WHERE e.created_at >= :start AND e.created_at < :end
      AND e.kind IN ('capture', 'platform_fee', 'late_capture', 'psp_fee', 'psp_tax')
      AND p.razorpay_payment_id IS NOT NULL
    GROUP BY p.razorpay_payment_id, e.currency
    """
)

_REFUNDS = text(
    """
    SELECT r.razorpay_refund_id AS provider_id, e.currency,
           SUM(CASE WHEN e.kind = 'refund' THEN e.amount_minor ELSE -e.amount_minor END) AS amount
    FROM payments.ledger_entries e
    JOIN payments.refunds r ON r.id = e.refund_id
    WHERE e.account = 'razorpay_clearing' AND e.kind IN ('refund', 'refund_reversal')
      AND r.razorpay_refund_id = ANY(:ids)
    GROUP BY r.razorpay_refund_id, e.currency
    """
)


@dataclass(frozen=True, slots=True)
class Mismatch:
    # capture_missing | capture_unknown | capture_amount | psp_fee | refund_missing | refund_amount
    kind: str
    provider_id: str
    ours_minor: int
    razorpay_minor: int
    currency: str


@dataclass
class LedgerReconciliation:
    day: date
    payments_seen: int = 0
    refunds_seen: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"ledger {self.day.isoformat()}: {self.payments_seen} Razorpay payment(s), "
            f"{self.refunds_seen} refund(s), {len(self.mismatches)} mismatch(es)"
        )


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=UTC)
    return start, start + timedelta(days=1)


async def _all_pages(
    fetch: Callable[..., Awaitable[list[ItemT]]], start: int, end: int
) -> list[ItemT]:
    found: list[ItemT] = []
    for page in range(MAX_PAGES):
        batch = await fetch(start=start, end=end, count=PAGE, skip=page * PAGE)
        found.extend(batch)
        if len(batch) < PAGE:
            break
    return found


async def reconcile_ledger_day(
    *, sessionmaker: async_sessionmaker[AsyncSession], client: RazorpayGateway, day: date
) -> LedgerReconciliation:
    start, end = day_bounds(day)
    first, last = int(start.timestamp()), int(end.timestamp()) - 1
    report = LedgerReconciliation(day=day)
    payments = await _all_pages(client.list_payments, first, last)
    refunds = await _all_pages(client.list_refunds, first, last)
    report.payments_seen, report.refunds_seen = len(payments), len(refunds)
    theirs = {p.id: p for p in payments if p.status in ("captured", "refunded")}
    async with sessionmaker() as session:
        ours = {
            r.provider_id: r for r in await session.execute(_CAPTURES, {"start": start, "end": end})
        }
        booked = {
            r.provider_id: r
            for r in await session.execute(_REFUNDS, {"ids": [r.id for r in refunds]})
        }
    found = report.mismatches
    for provider_id, p in theirs.items():
        mine = ours.get(provider_id)
        if mine is None:
            found.append(Mismatch("capture_missing", provider_id, 0, p.amount_minor, p.currency))
            continue
        if int(mine.gross) != p.amount_minor:
            found.append(
                Mismatch("capture_amount", provider_id, int(mine.gross), p.amount_minor, p.currency)
            )
        if int(mine.psp_fee) != p.fee_minor:
            found.append(
                Mismatch("psp_fee", provider_id, int(mine.psp_fee), p.fee_minor, p.currency)
            )
    for provider_id, mine in ours.items():
        if provider_id not in theirs:
            found.append(
                Mismatch("capture_unknown", provider_id, int(mine.gross), 0, mine.currency)
            )
    for refund in refunds:
        expected = refund.amount_minor if refund.status == "processed" else 0
        row = booked.get(refund.id)
        amount = int(row.amount) if row is not None else 0
        if row is None and expected:
            found.append(Mismatch("refund_missing", refund.id, 0, expected, refund.currency))
        elif amount != expected:
            found.append(Mismatch("refund_amount", refund.id, amount, expected, refund.currency))
    if found:
        await _report(sessionmaker, report)
    return report


async def _report(
    sessionmaker: async_sessionmaker[AsyncSession], report: LedgerReconciliation
) -> None:
    now = datetime.now(UTC)
    async with sessionmaker() as session:
        for m in report.mismatches:
            log.warning(
                "ledger and Razorpay differ",
                extra={"mismatch": m.kind, "day": report.day.isoformat()},
            )
            repo.add_event(
                session=session,
                type=EventType.LEDGER_MISMATCH,
                actor_id=None,
                occurred_at=now,
                data={
                    "day": report.day.isoformat(),
                    "mismatch": m.kind,
                    "razorpayId": m.provider_id,
                    "oursMinor": m.ours_minor,
                    "razorpayMinor": m.razorpay_minor,
                    "currency": m.currency,
                },
            )
        await session.commit()


class LedgerReconcilerTask:
    """Every `ledger_reconcile_interval_seconds` (0 = off) one replica reconciles the previous
    UTC day (a `shared.lifetime.Background` part)."""

    def __init__(self, gateway: RazorpayGateway, settings: PaymentsSettings) -> None:
        self.gateway = gateway
        self.interval_s = settings.ledger_reconcile_interval_seconds
        self._periodic = Periodic(
            name="payments-ledger-reconciler",
            interval_s=self.interval_s,
            job=self.run_once,
            logger=log,
            failure="ledger reconciliation failed",
        )
        self._sessionmaker: async_sessionmaker[AsyncSession] | None = None
        self._redis: Redis | None = None

    async def run_once(self, day: date | None = None) -> LedgerReconciliation | None:
        assert self._sessionmaker is not None
        assert self._redis is not None
        sessionmaker = self._sessionmaker
        ttl = int(max(min(self.interval_s, 3600.0), 300.0) * 1000)

        async def reconcile_day() -> LedgerReconciliation:
            return await reconcile_ledger_day(
                sessionmaker=sessionmaker,
                client=self.gateway,
                day=day or (datetime.now(UTC) - timedelta(days=1)).date(),
            )

        report = await run_locked(self._redis, LOCK_KEY, ttl, reconcile_day)
        if report is not None:
            log.info(report.summary())
        return report

    async def start(self, resources: Resources) -> None:
        self._sessionmaker, self._redis = resources.sessionmaker, resources.redis
        self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()


async def _main(day: date) -> LedgerReconciliation:
    settings = payments_settings()
    if not settings.database_url:
        raise SystemExit("DATABASE_URL is not set")
    engine = create_engine(settings.database_url, pool_size=2, application_name="reconcile")
    gateway = RazorpayGateway.from_settings(settings)
    try:
        return await reconcile_ledger_day(
            sessionmaker=create_sessionmaker(engine), client=gateway, day=day
        )
    finally:
        gateway.close()
        await engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m subgraphs.payments.reconciliation.ledger",
        description="Compare one UTC day of the ledger with Razorpay's payment and refund lists.",
    )
    parser.add_argument(
        "--day",
        type=date.fromisoformat,
        default=(datetime.now(UTC) - timedelta(days=1)).date(),
        help="the UTC day, YYYY-MM-DD (default: yesterday)",
    )
    report = asyncio.run(_main(parser.parse_args(argv).day))
    print(report.summary())
    for m in report.mismatches:
        amounts = f"ours {m.ours_minor}, razorpay {m.razorpay_minor} {m.currency}"
        print(f"  {m.kind} {m.provider_id}: {amounts}")
    return 1 if report.mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
