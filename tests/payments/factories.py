"""Small factories writing payment rows directly (for states the API cannot reach yet)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.payments.enums import PaymentStatus, PaymentType
from subgraphs.payments.models import Payment, PaymentTransaction


async def insert_payment(
    session: AsyncSession,
    *,
    created_by: uuid.UUID,
    payer_id: uuid.UUID | None = None,
    payee_id: uuid.UUID | None = None,
    type: PaymentType = PaymentType.PAYMENT,
    status: PaymentStatus = PaymentStatus.PENDING,
    amount_minor: int = 1_000,
    currency: str = "INR",
    created_at: datetime | None = None,
    transactions: int = 1,
    commit: bool = True,
    order_id: str | None = None,
    provider_payment_id: str | None = None,
    amount_refunded_minor: int = 0,
) -> Payment:
    now = created_at or datetime.now(UTC)
    payment_id = uuid.uuid4()
    payment = Payment(
        id=payment_id,
        type=type,
        status=status,
        amount_minor=amount_minor,
        amount_refunded_minor=amount_refunded_minor,
        currency=currency,
        description=f"test payment {payment_id.hex[:6]}",
        payer_id=payer_id if payer_id is not None else created_by,
        payee_id=payee_id,
        created_by=created_by,
        receipt=f"rcpt_{payment_id.hex}",
        razorpay_order_id=order_id,
        razorpay_payment_id=provider_payment_id,
        created_at=now,
        updated_at=now,
    )
    session.add(payment)
    await session.flush()
    for i in range(transactions):
        session.add(
            PaymentTransaction(
                id=uuid.uuid4(),
                payment_id=payment_id,
                kind="CREATE" if i == 0 else "STATUS_CHANGE",
                amount_minor=amount_minor,
                status="SUCCEEDED",
                from_status=None if i == 0 else PaymentStatus.PENDING,
                to_status=status,
                created_at=now,
                details={},
            )
        )
    if commit:
        await session.commit()
    else:
        await session.flush()
    return payment


def razorpay_id(prefix: str) -> str:
    """A unique Razorpay-shaped id (`order_` / `pay_` / `rfnd_` + 14 characters)."""
    return f"{prefix}_{uuid.uuid4().hex[:14]}"
