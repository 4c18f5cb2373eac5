"""One reconciliation sweep: ask Razorpay about payments whose webhooks may never have come.

Candidates: PROCESSING payments unchanged for longer than `older_than` (stuck: the customer
paid but no webhook or verifyPayment arrived) and FAILED ones changed within `window` (Razorpay
can authorise and capture after a failure). For each, the order's payments are fetched and
applied through `sync.apply_provider_payment` (the idempotent path webhooks use), failed attempts
first and captures last. Refunds still PENDING after `older_than` are fetched too (and a request
whose answer never came is re-sent with its idempotency key, which cannot refund twice).

Runs periodically in every payments process (`periodic.py`, one replica at a time through a
Redis lock) and on demand: `python -m subgraphs.payments.reconciliation [--older-than 15m]`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.errors import PaymentProviderError
from subgraphs.payments import repository as repo
from subgraphs.payments import sync
from subgraphs.payments.provider.razorpay import ProviderCallFailed, RazorpayGateway
from subgraphs.payments.refunds import repository as refund_repo
from subgraphs.payments.refunds.service import send_refund, with_our_key

# Apply failed attempts before authorisations before captures: the final state is the same in
# any order (sync is order-proof), the history reads naturally.
_ORDER = {"failed": 0, "created": 1, "authorized": 2, "captured": 3, "refunded": 4}


@dataclass
class ReconcileReport:
    examined: int = 0
    applied: int = 0
    unchanged: int = 0
    mismatched: int = 0
    refunds_examined: int = 0
    refunds_applied: int = 0
    errors: int = 0
    payment_ids: list[str] = field(default_factory=list)  # payments that changed

    def summary(self) -> str:
        return (
            f"reconciled {self.examined} payment(s): {self.applied} changed, "
            f"{self.unchanged} unchanged, {self.mismatched} mismatched; "
            f"{self.refunds_examined} pending refund(s): {self.refunds_applied} changed; "
            f"{self.errors} error(s)"
        )


async def reconcile(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    client: RazorpayGateway,
    older_than: timedelta,
    limit: int,
    window: timedelta = timedelta(days=7),
    now: datetime | None = None,
) -> ReconcileReport:
    now = now or datetime.now(UTC)
    cutoff = now - older_than
    report = ReconcileReport()
    async with sessionmaker() as session:
        candidates = await repo.reconcile_candidates(
            session=session, stuck_before=cutoff, since=now - window, limit=limit
        )
        refunds = await refund_repo.stuck_refunds(
            session=session, created_before=cutoff, limit=limit
        )
        await session.commit()
    for payment_id, order_id in candidates:
        try:
            seen = await client.order_payments(order_id)
        except PaymentProviderError as exc:
            report.errors += 1
            if _outage(exc):
                return report
            continue
        report.examined += 1
        async with sessionmaker() as session:
            changed = False
            for payment in sorted(seen, key=lambda p: _ORDER.get(p.status, 1)):
                result = await sync.apply_provider_payment(
                    session=session, payment=payment, source="reconcile", now=now
                )
                changed = changed or result.outcome == "applied"
                report.mismatched += result.outcome == "mismatch"
            await repo.mark_reconciled(session=session, payment_id=payment_id, at=now)
            await session.commit()
        if changed:
            report.applied += 1
            report.payment_ids.append(str(payment_id))
        else:
            report.unchanged += 1
    for refund, provider_payment_id in refunds:
        report.refunds_examined += 1
        try:
            if refund.razorpay_refund_id is None:
                found = [await send_refund(client, refund, provider_payment_id)]
            else:
                found = await client.payment_refunds(provider_payment_id)
        except PaymentProviderError as exc:
            report.errors += 1
            if _outage(exc):
                return report
            continue
        async with sessionmaker() as session:
            for item in found:
                if item.id == refund.razorpay_refund_id or refund.razorpay_refund_id is None:
                    result = await sync.apply_provider_refund(
                        session=session,
                        refund=with_our_key(item, refund),
                        source="reconcile",
                        now=now,
                    )
                    report.refunds_applied += result.outcome == "applied"
            await session.commit()
    return report


def _outage(exc: PaymentProviderError) -> bool:
    """Razorpay is down (the circuit is open): stop this run instead of failing each call."""
    return isinstance(exc, ProviderCallFailed) and exc.reason == "circuit_open"
