"""startCheckout: the payer opens Razorpay Checkout for a payment.

The first call creates a Razorpay order (amount in minor units, our receipt, notes with our
payment id and the payer's id) and moves the payment PENDING / INITIATED -> PROCESSING; while
that order is open (PROCESSING, or FAILED: Checkout lets the customer try again on the same
order, and a late capture still completes it) every further call returns the same order.

The payment row stays locked (`FOR UPDATE`) while Razorpay is asked, so concurrent calls make
one order. Before creating, the order is looked up by its receipt: an earlier attempt whose
answer never arrived (a timeout, a crash) may have created it, and a second order must not be.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from shared.context import Principal
from shared.errors import Conflict, PaymentProviderError
from subgraphs.payments import repository as repo
from subgraphs.payments.access import ensure_payer
from subgraphs.payments.enums import PaymentStatus, TransactionKind, TransactionStatus
from subgraphs.payments.lifecycle.status import change_status
from subgraphs.payments.models import Payment
from subgraphs.payments.provider.entities import ProviderOrder, log_mismatch
from subgraphs.payments.provider.razorpay import RazorpayGateway
from subgraphs.payments.state import ORDER_OPEN, STARTABLE


@dataclass(frozen=True, slots=True)
class Checkout:
    """What the MFE needs to open Razorpay Checkout."""

    payment: Payment
    order_id: str
    key_id: str


async def start_checkout(
    *,
    session: AsyncSession,
    principal: Principal,
    gateway: RazorpayGateway,
    payment_id: uuid.UUID,
    now: datetime | None = None,
) -> Checkout:
    payment = ensure_payer(
        principal, await repo.get_payment(session=session, payment_id=payment_id, for_update=True)
    )
    status = PaymentStatus(payment.status)
    if payment.razorpay_order_id is not None and status in ORDER_OPEN:
        await session.commit()
        return Checkout(payment=payment, order_id=payment.razorpay_order_id, key_id=gateway.key_id)
    if status not in STARTABLE:
        await session.rollback()
        raise Conflict(f"A {status.value} payment cannot be paid")
    try:
        order = await _order_for(gateway, payment, principal)
    except PaymentProviderError:
        await session.rollback()
        raise
    now = now or datetime.now(UTC)
    payment.razorpay_order_id = order.id
    repo.add_transaction(
        session=session,
        payment=payment,
        kind=TransactionKind.CHECKOUT,
        amount_minor=payment.amount_minor,
        status=TransactionStatus.SUCCEEDED,
        created_at=now,
        details={"razorpayOrderId": order.id, "receipt": payment.receipt},
    )
    await change_status(
        session=session,
        payment=payment,
        target=PaymentStatus.PROCESSING,
        actor_id=principal.id,
        now=now,
        details={"razorpayOrderId": order.id},
    )
    await session.commit()
    return Checkout(payment=payment, order_id=order.id, key_id=gateway.key_id)


async def _order_for(
    gateway: RazorpayGateway, payment: Payment, principal: Principal
) -> ProviderOrder:
    """The payment's Razorpay order: the one its receipt already names, else a new one."""
    order = await gateway.find_order_by_receipt(payment.receipt)
    if order is None:
        order = await gateway.create_order(
            amount_minor=payment.amount_minor,
            currency=payment.currency,
            receipt=payment.receipt,
            notes={"paymentId": str(payment.id), "userId": str(principal.id)},
        )
    if order.amount_minor != payment.amount_minor or order.currency != payment.currency:
        log_mismatch("order", payment, order.id, "checkout")
        raise PaymentProviderError()
    return order
