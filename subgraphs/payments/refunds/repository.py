"""SQL for refunds. No business rules here."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.payments.enums import RefundStatus
from subgraphs.payments.models import Payment, Refund


async def find_refund(
    *, session: AsyncSession, payment_id: uuid.UUID, provider_refund_id: str, key: str | None
) -> Refund | None:
    """Our row for a Razorpay refund: by its id, else by our idempotency key (sent as the
    refund's receipt), else None.

    Always re-read (`populate_existing`): callers hold the payment's row lock, and the refund row
    may sit in their session from before another applier (a webhook) committed; a stale PENDING
    copy would apply the refund a second time."""
    found = await session.scalar(
        select(Refund)
        .where(Refund.razorpay_refund_id == provider_refund_id)
        .execution_options(populate_existing=True)
    )
    if found is None and key:
        found = await session.scalar(
            select(Refund)
            .where(Refund.idempotency_key == key, Refund.payment_id == payment_id)
            .execution_options(populate_existing=True)
        )
    return found


async def find_by_key(*, session: AsyncSession, key: str) -> Refund | None:
    found: Refund | None = await session.scalar(
        select(Refund)
        .where(Refund.idempotency_key == key)
        .execution_options(populate_existing=True)
    )
    return found


async def unlinked_refund(
    *, session: AsyncSession, payment_id: uuid.UUID, amount_minor: int
) -> Refund | None:
    """The oldest refund we asked for but have no Razorpay id for yet, of this amount."""
    statement = (
        select(Refund)
        .where(
            Refund.payment_id == payment_id,
            Refund.razorpay_refund_id.is_(None),
            Refund.status == RefundStatus.PENDING,
            Refund.amount_minor == amount_minor,
        )
        .order_by(Refund.created_at, Refund.id)
        .limit(1)
        .execution_options(populate_existing=True)
    )
    refund: Refund | None = await session.scalar(statement)
    return refund


async def pending_refund_minor(*, session: AsyncSession, payment_id: uuid.UUID) -> int:
    statement = select(func.coalesce(func.sum(Refund.amount_minor), 0)).where(
        Refund.payment_id == payment_id, Refund.status == RefundStatus.PENDING
    )
    return int(await session.scalar(statement) or 0)


async def stuck_refunds(
    *, session: AsyncSession, created_before: datetime, limit: int
) -> Sequence[tuple[Refund, str]]:
    """PENDING refunds older than `created_before`, and refunds of late captures of any age
    (nobody else sends those), with their Razorpay payment id."""
    statement = (
        select(Refund, Payment.razorpay_payment_id)
        .join(Payment, Payment.id == Refund.payment_id)
        .where(
            Refund.status == RefundStatus.PENDING,
            or_(Refund.created_at < created_before, Refund.idempotency_key.startswith("late_")),
            Payment.razorpay_payment_id.is_not(None),
        )
        .order_by(Refund.created_at)
        .limit(limit)
    )
    return [(refund, str(pay)) for refund, pay in (await session.execute(statement)).all()]
