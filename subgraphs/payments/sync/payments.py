"""Applying Razorpay's view of a payment (and, in `refunds.py`, of a refund) to ours.

verifyPayment, the webhook sidecar and reconciliation all call these two functions (exported by
the package: `sync.apply_provider_payment`, `sync.apply_provider_refund`). Each finds our
payment (by Razorpay order id for payments, by Razorpay payment id for refunds), locks its row
(`SELECT ... FOR UPDATE`, so concurrent callers serialise and the second sees the first's
result), decides with the state machine and records through `lifecycle.status.change_status`. They
flush but never commit: the caller commits.

Rules:
- `captured` (and `refunded`, which implies a capture) -> COMPLETED from PROCESSING or FAILED
  (Razorpay may capture after a failure), with the capture's ledger rows (amount, platform fee,
  Razorpay's `fee` and `tax`) in the same transaction; already COMPLETED / refunded: unchanged.
- `captured` for a CANCELLED payment (the customer paid after cancelling): a late capture, refunded
  automatically (`late_capture.py`); the payment stays CANCELLED.
- `failed` -> FAILED from PROCESSING only; COMPLETED never goes back.
- `authorized` -> stays PROCESSING (or FAILED), one AUTHORIZATION transaction per Razorpay payment.
- refunds: `processed` adds the amount once per refund id; the status becomes PARTIALLY_REFUNDED
  or REFUNDED by the cumulative processed amount; `failed` releases a pending refund (or reverses
  a processed one's amount; the status stays, it only moves forward); `pending` links the id.
- an amount or currency that differs from our payment -> "mismatch": nothing changes, and a
  security event is logged.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from shared.logging import mask
from subgraphs.payments import repository as repo
from subgraphs.payments.enums import PaymentStatus, TransactionKind
from subgraphs.payments.enums import TransactionStatus as TxStatus
from subgraphs.payments.ledger.record import record_capture
from subgraphs.payments.lifecycle.status import change_status
from subgraphs.payments.models import Payment
from subgraphs.payments.provider.entities import ApplyResult, ProviderPayment, log_mismatch
from subgraphs.payments.state import ORDER_OPEN, SETTLED, can_transition
from subgraphs.payments.sync.late_capture import late_capture

log = logging.getLogger("bff.payments.sync")


async def apply_provider_payment(
    *, session: AsyncSession, payment: ProviderPayment, source: str, now: datetime | None = None
) -> ApplyResult:
    """Apply Razorpay's view of one payment attempt to our payment of that order."""
    now = now or datetime.now(UTC)
    row = await repo.get_payment_by_order_id(
        session=session, order_id=payment.order_id, for_update=True
    )
    if row is None:
        log.info(
            "razorpay payment for an unknown order",
            extra={"order": mask(payment.order_id), "source": source},
        )
        return ApplyResult("unknown_order", None)
    if payment.amount_minor != row.amount_minor or payment.currency != row.currency:
        log_mismatch("payment", row, payment.id, source)
        return ApplyResult("mismatch", row.id)
    if payment.status in ("captured", "refunded"):
        changed = await _captured(session, row, payment, source, now)
    elif payment.status == "failed":
        changed = await _failed(session, row, payment, source, now)
    elif payment.status == "authorized":
        changed = await _authorized(session, row, payment, source, now)
    else:
        changed = False
    await session.flush()
    return ApplyResult("applied" if changed else "unchanged", row.id)


def _record_attempt(
    session: AsyncSession,
    row: Payment,
    kind: TransactionKind,
    payment: ProviderPayment,
    source: str,
    now: datetime,
) -> None:
    """A successful provider step (authorization, capture) in the payment's history."""
    repo.add_transaction(
        session=session,
        payment=row,
        kind=kind,
        amount_minor=payment.amount_minor,
        status=TxStatus.SUCCEEDED,
        created_at=now,
        details=_details(source, payment),
    )


def _details(source: str, payment: ProviderPayment) -> dict[str, object]:
    return {"source": source, "razorpayPaymentId": payment.id}


async def _captured(
    session: AsyncSession, row: Payment, payment: ProviderPayment, source: str, now: datetime
) -> bool:
    current = PaymentStatus(row.status)
    if current in SETTLED:
        if row.razorpay_payment_id != payment.id:
            log.warning(
                "a second captured payment on a settled order needs a refund",
                extra={"payment": mask(str(row.id)), "provider_id": mask(payment.id)},
            )
        return False
    if current == PaymentStatus.CANCELLED:
        return await late_capture(session=session, row=row, payment=payment, source=source, now=now)
    if not can_transition(current, PaymentStatus.COMPLETED):  # pragma: no cover - none left
        log.error(
            "razorpay captured a %s payment",
            current.value,
            extra={"payment": mask(str(row.id)), "provider_id": mask(payment.id)},
        )
        return False
    row.razorpay_payment_id = payment.id
    _record_attempt(session, row, TransactionKind.CAPTURE, payment, source, now)
    await change_status(
        session=session,
        payment=row,
        target=PaymentStatus.COMPLETED,
        actor_id=None,
        now=now,
        details=_details(source, payment),
    )
    await record_capture(
        session=session,
        payment=row,
        psp_fee_minor=payment.fee_minor,
        psp_tax_minor=payment.tax_minor,
        now=now,
    )
    return True


async def _failed(
    session: AsyncSession, row: Payment, payment: ProviderPayment, source: str, now: datetime
) -> bool:
    if row.status != PaymentStatus.PROCESSING:
        return False  # already FAILED, or settled (COMPLETED never goes back), or final
    row.razorpay_payment_id = payment.id
    details = {
        **_details(source, payment),
        "errorCode": payment.error_code,
        "errorDescription": payment.error_description,
    }
    await change_status(
        session=session,
        payment=row,
        target=PaymentStatus.FAILED,
        actor_id=None,
        now=now,
        details=details,
    )
    return True


async def _authorized(
    session: AsyncSession, row: Payment, payment: ProviderPayment, source: str, now: datetime
) -> bool:
    if row.status not in ORDER_OPEN:
        return False
    if await repo.has_transaction(
        session=session,
        payment_id=row.id,
        kind=TransactionKind.AUTHORIZATION,
        provider_payment_id=payment.id,
    ):
        return False
    row.razorpay_payment_id = payment.id
    _record_attempt(session, row, TransactionKind.AUTHORIZATION, payment, source, now)
    return True
