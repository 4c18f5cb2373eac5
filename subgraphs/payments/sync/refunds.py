"""Applying Razorpay's view of a refund (see `payments.py` for the rules; the package exports it).

Our refund rows are matched by Razorpay refund id, else by our idempotency key (sent as the
refund's receipt), else by the oldest unlinked PENDING refund of the same amount; a refund we did
not ask for (e.g. from the dashboard) gets a row of its own. `processed` applies each refund
once and moves the payment to PARTIALLY_REFUNDED / REFUNDED by the cumulative processed amount,
with the refund's ledger rows; `failed` after `processed` mirrors those rows and re-opens the
amount (the payment goes back to PARTIALLY_REFUNDED or COMPLETED).
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from shared.logging import mask
from subgraphs.payments import repository as repo
from subgraphs.payments.enums import EventType, PaymentStatus, RefundStatus, TransactionKind
from subgraphs.payments.enums import TransactionStatus as TxStatus
from subgraphs.payments.ledger.record import (
    record_capture,
    record_refund,
    record_refund_reversal,
)
from subgraphs.payments.lifecycle.status import change_status, event_data
from subgraphs.payments.models import Payment, Refund
from subgraphs.payments.provider.entities import ApplyResult, ProviderRefund, log_mismatch
from subgraphs.payments.refunds import repository as refund_repo
from subgraphs.payments.state import CAPTURED, SETTLED, can_transition

log = logging.getLogger("bff.payments.sync")


async def apply_provider_refund(
    *, session: AsyncSession, refund: ProviderRefund, source: str, now: datetime | None = None
) -> ApplyResult:
    """Apply Razorpay's view of one refund to our payment of that Razorpay payment."""
    now = now or datetime.now(UTC)
    row = await repo.get_payment_by_provider_payment_id(
        session=session, provider_payment_id=refund.payment_id, for_update=True
    )
    if row is None:
        log.info(
            "razorpay refund for an unknown payment",
            extra={"provider_id": mask(refund.payment_id), "source": source},
        )
        return ApplyResult("unknown_order", None)
    ours = await refund_repo.find_refund(
        session=session, payment_id=row.id, provider_refund_id=refund.id, key=refund.receipt
    )
    if ours is None:
        ours = await refund_repo.unlinked_refund(
            session=session, payment_id=row.id, amount_minor=refund.amount_minor
        )
    unapplied = ours is None or ours.status == RefundStatus.PENDING
    if (
        refund.currency != row.currency
        or (ours is not None and ours.amount_minor != refund.amount_minor)
        or (ours is not None and ours.payment_id != row.id)
        or (
            refund.status == "processed"
            and unapplied
            and row.amount_refunded_minor + refund.amount_minor > row.amount_minor
        )
    ):
        log_mismatch("refund", row, refund.id, source)
        return ApplyResult("mismatch", row.id)
    changed = False
    if ours is None:
        ours = Refund(
            id=uuid.uuid4(),
            payment_id=row.id,
            amount_minor=refund.amount_minor,
            currency=row.currency,
            status=RefundStatus.PENDING,
            idempotency_key=f"ext_{refund.id}"[:64],
            razorpay_refund_id=refund.id,
            requested_by=None,
            created_at=now,
            updated_at=now,
        )
        session.add(ours)
        changed = True
    elif ours.razorpay_refund_id is None:
        ours.razorpay_refund_id = refund.id
        changed = True
    if refund.status == "processed":
        changed = await _refund_processed(session, row, ours, source, now) or changed
    elif refund.status == "failed":
        changed = await _refund_failed(session, row, ours, source, now) or changed
    await session.flush()
    return ApplyResult("applied" if changed else "unchanged", row.id)


def _refund_tx(
    session: AsyncSession, row: Payment, ours: Refund, status: TxStatus, source: str, now: datetime
) -> None:
    repo.add_transaction(
        session=session,
        payment=row,
        kind=TransactionKind.REFUND,
        amount_minor=ours.amount_minor,
        status=status,
        created_at=now,
        details={
            "source": source,
            "refundId": str(ours.id),
            "razorpayRefundId": ours.razorpay_refund_id,
        },
    )


async def _refund_processed(
    session: AsyncSession, row: Payment, ours: Refund, source: str, now: datetime
) -> bool:
    if ours.status != RefundStatus.PENDING:
        return False  # each refund id is applied once (a FAILED one never comes back)
    total = row.amount_refunded_minor + ours.amount_minor  # checked against the amount above
    current = PaymentStatus(row.status)
    if current == PaymentStatus.CANCELLED:
        return await _late_capture_refunded(session, row, ours, source, now)
    if current not in SETTLED and can_transition(current, PaymentStatus.COMPLETED):
        # A processed refund proves the capture we have not heard of yet.
        await change_status(
            session=session,
            payment=row,
            target=PaymentStatus.COMPLETED,
            actor_id=None,
            now=now,
            details={"source": source, "reason": "refund implies capture"},
        )
        # Razorpay's fee is not in a refund entity: reconciliation reports the difference.
        await record_capture(
            session=session, payment=row, psp_fee_minor=0, psp_tax_minor=0, now=now
        )
    elif current not in CAPTURED:
        log.error(
            "razorpay refunded a %s payment",
            current.value,
            extra={"payment": mask(str(row.id)), "provider_id": mask(ours.razorpay_refund_id)},
        )
        return False
    await record_refund(
        session=session,
        payment=row,
        refund=ours,
        refunded_before=row.amount_refunded_minor,
        now=now,
    )
    ours.status = RefundStatus.PROCESSED
    ours.updated_at = now
    row.amount_refunded_minor = total
    _refund_tx(session, row, ours, TxStatus.SUCCEEDED, source, now)
    full = total == row.amount_minor
    target = PaymentStatus.REFUNDED if full else PaymentStatus.PARTIALLY_REFUNDED
    await change_status(
        session=session,
        payment=row,
        target=target,
        actor_id=None,
        now=now,
        details={"source": source, "refundId": str(ours.id), "amountRefundedMinor": total},
    )
    return True


async def _late_capture_refunded(
    session: AsyncSession, row: Payment, ours: Refund, source: str, now: datetime
) -> bool:
    """A refund of a late capture (`late_capture.py`): the money is back with the customer; the
    payment stays CANCELLED, its refunded amount grows, the payer hears of it."""
    await record_refund(
        session=session,
        payment=row,
        refund=ours,
        refunded_before=row.amount_refunded_minor,
        now=now,
    )
    ours.status = RefundStatus.PROCESSED
    ours.updated_at = now
    row.amount_refunded_minor += ours.amount_minor
    row.updated_at = now
    _refund_tx(session, row, ours, TxStatus.SUCCEEDED, source, now)
    repo.add_event(
        session=session,
        type=EventType.PAYMENT_UPDATED,
        actor_id=None,
        occurred_at=now,
        data={**event_data(row), "refundId": str(ours.id), "lateCaptureRefunded": True},
    )
    return True


async def _refund_failed(
    session: AsyncSession, row: Payment, ours: Refund, source: str, now: datetime
) -> bool:
    if ours.status == RefundStatus.FAILED:
        return False
    if ours.status == RefundStatus.PROCESSED:
        await _reopen(session, row, ours, source, now)
    ours.status = RefundStatus.FAILED
    ours.updated_at = now
    _refund_tx(session, row, ours, TxStatus.FAILED, source, now)
    return True


async def _reopen(
    session: AsyncSession, row: Payment, ours: Refund, source: str, now: datetime
) -> None:
    """The bank bounced a processed refund: its amount is refundable again. The ledger gets the
    refund's rows mirrored, and the status goes back by amount (REFUNDED -> PARTIALLY_REFUNDED
    or COMPLETED, PARTIALLY_REFUNDED -> COMPLETED): the one backward move the state machine
    allows (`state.REOPENS`). A CANCELLED payment (a refunded late capture) stays CANCELLED."""
    log.warning("a processed refund failed", extra={"provider_id": mask(ours.razorpay_refund_id)})
    await record_refund_reversal(session=session, payment=row, refund=ours, now=now)
    row.amount_refunded_minor -= ours.amount_minor
    row.updated_at = now
    current = PaymentStatus(row.status)
    if current not in SETTLED:
        return
    target = (
        PaymentStatus.PARTIALLY_REFUNDED if row.amount_refunded_minor else PaymentStatus.COMPLETED
    )
    if target != current:
        await change_status(
            session=session,
            payment=row,
            target=target,
            actor_id=None,
            now=now,
            details={
                "source": source,
                "refundId": str(ours.id),
                "reason": "refund failed after it was processed",
                "amountRefundedMinor": row.amount_refunded_minor,
            },
            reopen=True,
        )
