"""A capture for a CANCELLED payment (the customer paid after cancelling, with the order still
open): the money goes back automatically.

In the transaction that sees the capture (a webhook, verifyPayment or reconciliation):
- the Razorpay payment id is linked and a CAPTURE transaction recorded;
- ledger rows `late_capture`: Razorpay's clearing debited, the whole amount owed to the customer
  (`customer_refunds`), no platform fee, Razorpay's own fee borne by the platform;
- a PENDING refund of the whole amount (key `late_<razorpay payment id>`: one per Razorpay
  payment however often the capture is seen), to be sent through the ordinary refund path
  (`refunds.service.send_refund`, then `sync.apply_provider_refund`): reconciliation sends
  late-capture refunds on its next pass without waiting for them to look stuck;
- `payments:payment:updated` (the payer's `paymentUpdated` and the audit log hear of it).

The payment stays CANCELLED; when the refund is processed, `amountRefunded` equals the amount and
the ledger rows `refund` settle `customer_refunds` against the clearing account.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from shared.logging import mask
from subgraphs.payments import repository as repo
from subgraphs.payments.enums import EventType, RefundStatus, TransactionKind
from subgraphs.payments.enums import TransactionStatus as TxStatus
from subgraphs.payments.ledger.record import record_capture
from subgraphs.payments.lifecycle.status import event_data
from subgraphs.payments.models import Payment, Refund
from subgraphs.payments.provider.entities import ProviderPayment
from subgraphs.payments.refunds import repository as refund_repo

log = logging.getLogger("bff.payments.sync")

LATE_PREFIX = "late_"


def late_refund_key(provider_payment_id: str) -> str:
    return f"{LATE_PREFIX}{provider_payment_id}"[:64]


async def late_capture(
    *,
    session: AsyncSession,
    row: Payment,
    payment: ProviderPayment,
    source: str,
    now: datetime,
) -> bool:
    key = late_refund_key(payment.id)
    if row.razorpay_payment_id == payment.id and await repo.has_transaction(
        session=session,
        payment_id=row.id,
        kind=TransactionKind.CAPTURE,
        provider_payment_id=payment.id,
    ):
        return False  # seen before: booked, its refund exists
    linked = row.razorpay_payment_id
    if linked not in (None, payment.id) and await repo.has_transaction(
        session=session, payment_id=row.id, kind=TransactionKind.CAPTURE, provider_payment_id=linked
    ):
        # The linked attempt was itself captured (and booked): a second capture on one order.
        # A linked attempt that failed or was only authorised is replaced by this one below.
        log.warning(
            "a second captured payment on a cancelled order needs a refund",
            extra={"payment": mask(str(row.id)), "provider_id": mask(payment.id)},
        )
        return False
    log.warning(
        "razorpay captured a cancelled payment: refunding it",
        extra={"payment": mask(str(row.id)), "provider_id": mask(payment.id), "source": source},
    )
    row.razorpay_payment_id = payment.id
    row.updated_at = now
    details = {"source": source, "razorpayPaymentId": payment.id, "lateCapture": True}
    repo.add_transaction(
        session=session,
        payment=row,
        kind=TransactionKind.CAPTURE,
        amount_minor=payment.amount_minor,
        status=TxStatus.SUCCEEDED,
        created_at=now,
        details=details,
    )
    await record_capture(
        session=session,
        payment=row,
        psp_fee_minor=payment.fee_minor,
        psp_tax_minor=payment.tax_minor,
        now=now,
    )
    pending = await refund_repo.pending_refund_minor(session=session, payment_id=row.id)
    left = row.amount_minor - row.amount_refunded_minor - pending
    refund_id = uuid.uuid4()
    if left <= 0:  # a refund seen before the capture (events arrive out of order) covers it
        repo.add_event(
            session=session,
            type=EventType.PAYMENT_UPDATED,
            actor_id=None,
            occurred_at=now,
            data={**event_data(row), "lateCapture": True},
        )
        return True
    session.add(
        Refund(
            id=refund_id,
            payment_id=row.id,
            amount_minor=left,
            currency=row.currency,
            status=RefundStatus.PENDING,
            idempotency_key=key,
            razorpay_refund_id=None,
            requested_by=None,
            created_at=now,
            updated_at=now,
        )
    )
    repo.add_event(
        session=session,
        type=EventType.PAYMENT_UPDATED,
        actor_id=None,
        occurred_at=now,
        data={**event_data(row), "lateCapture": True, "refundId": str(refund_id)},
    )
    return True
