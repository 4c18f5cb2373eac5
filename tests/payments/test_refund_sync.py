"""sync/refunds.py (exported by the sync package): refunds are cumulative, each refund id once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from subgraphs.payments import sync
from subgraphs.payments.enums import PaymentStatus, RefundStatus
from subgraphs.payments.models import Payment, PaymentTransaction, Refund
from subgraphs.payments.sync import ProviderRefund
from tests.payments.factories import insert_payment, razorpay_id


async def captured(session: AsyncSession, *, status: PaymentStatus = PaymentStatus.COMPLETED,
                   amount_minor: int = 1_000, **kw: Any) -> Payment:  # fmt: skip
    return await insert_payment(
        session,
        created_by=uuid.uuid4(),
        status=status,
        amount_minor=amount_minor,
        order_id=razorpay_id("order"),
        provider_payment_id=razorpay_id("pay"),
        commit=False,
        **kw,
    )


def refund(row: Payment, amount_minor: int, status: str = "processed", **kw: Any) -> ProviderRefund:
    assert row.razorpay_payment_id is not None
    values: dict[str, Any] = {
        "id": razorpay_id("rfnd"),
        "payment_id": row.razorpay_payment_id,
        "amount_minor": amount_minor,
        "currency": row.currency,
        "status": status,
    }
    values.update(kw)
    return ProviderRefund(**values)


async def apply(session: AsyncSession, seen: ProviderRefund) -> str:
    result = await sync.apply_provider_refund(session=session, refund=seen, source="test")
    return result.outcome


async def refunds_of(session: AsyncSession, row: Payment) -> list[tuple[str | None, int, str]]:
    rows = (
        await session.scalars(
            select(Refund).where(Refund.payment_id == row.id).order_by(Refund.created_at)
        )
    ).all()
    return [(r.razorpay_refund_id, r.amount_minor, r.status) for r in rows]


async def ours(session: AsyncSession, row: Payment, amount_minor: int, key: str) -> Refund:
    now = datetime.now(UTC)
    mine = Refund(
        id=uuid.uuid4(), payment_id=row.id, amount_minor=amount_minor, currency=row.currency,
        status=RefundStatus.PENDING, idempotency_key=key, requested_by=None,
        created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(mine)
    await session.flush()
    return mine


async def test_refunds_are_cumulative_and_each_id_applies_once(db_session: AsyncSession) -> None:
    row = await captured(db_session)
    first, second = refund(row, 300), refund(row, 700)
    assert await apply(db_session, first) == "applied"
    assert (row.status, row.amount_refunded_minor) == (PaymentStatus.PARTIALLY_REFUNDED, 300)
    assert await apply(db_session, first) == "unchanged"
    assert row.amount_refunded_minor == 300
    assert await apply(db_session, second) == "applied"
    assert (row.status, row.amount_refunded_minor) == (PaymentStatus.REFUNDED, 1000)
    assert await apply(db_session, refund(row, 1)) == "mismatch"
    assert row.amount_refunded_minor == 1000
    kinds = (
        await db_session.scalars(
            select(PaymentTransaction.kind).where(
                PaymentTransaction.payment_id == row.id, PaymentTransaction.kind == "REFUND"
            )
        )
    ).all()
    assert len(kinds) == 2
    assert [r[2] for r in await refunds_of(db_session, row)] == ["PROCESSED", "PROCESSED"]


async def test_pending_then_processed_then_duplicate(db_session: AsyncSession) -> None:
    row = await captured(db_session)
    created = refund(row, 400, "pending")
    assert await apply(db_session, created) == "applied"
    assert await apply(db_session, created) == "unchanged"
    assert row.status == PaymentStatus.COMPLETED
    processed = refund(row, 400, id=created.id)
    assert await apply(db_session, processed) == "applied"
    assert await apply(db_session, processed) == "unchanged"
    assert await refunds_of(db_session, row) == [(created.id, 400, "PROCESSED")]
    assert (row.status, row.amount_refunded_minor) == (PaymentStatus.PARTIALLY_REFUNDED, 400)


async def test_matches_our_row_by_receipt_then_by_amount(db_session: AsyncSession) -> None:
    row = await captured(db_session)
    keyed = await ours(db_session, row, 200, "rfd_keyed_0001")
    unkeyed = await ours(db_session, row, 300, "rfd_unkeyed_01")
    by_receipt = refund(row, 200, receipt="rfd_keyed_0001")
    assert await apply(db_session, by_receipt) == "applied"
    assert (keyed.razorpay_refund_id, keyed.status) == (by_receipt.id, RefundStatus.PROCESSED)
    by_amount = refund(row, 300, "pending")
    assert await apply(db_session, by_amount) == "applied"
    assert (unkeyed.razorpay_refund_id, unkeyed.status) == (by_amount.id, RefundStatus.PENDING)
    assert len(await refunds_of(db_session, row)) == 2


async def test_receipt_with_another_amount_is_a_mismatch(db_session: AsyncSession) -> None:
    row = await captured(db_session)
    mine = await ours(db_session, row, 200, "rfd_mismatch_1")
    assert await apply(db_session, refund(row, 250, receipt="rfd_mismatch_1")) == "mismatch"
    assert (mine.status, mine.razorpay_refund_id, row.amount_refunded_minor) == ("PENDING", None, 0)
    assert await apply(db_session, refund(row, 100, currency="USD")) == "mismatch"


async def test_failed_refunds(db_session: AsyncSession) -> None:
    row = await captured(db_session)
    pending = refund(row, 100, "pending")
    await apply(db_session, pending)
    assert await apply(db_session, refund(row, 100, "failed", id=pending.id)) == "applied"
    assert await apply(db_session, refund(row, 100, "failed", id=pending.id)) == "unchanged"
    assert await apply(db_session, refund(row, 100, id=pending.id)) == "unchanged"
    assert row.amount_refunded_minor == 0
    bounced = refund(row, 600)
    await apply(db_session, bounced)
    assert (row.status, row.amount_refunded_minor) == (PaymentStatus.PARTIALLY_REFUNDED, 600)
    assert await apply(db_session, refund(row, 600, "failed", id=bounced.id)) == "applied"
    # The refunded amount is re-opened: back to COMPLETED (the one backward move, state.REOPENS)
    assert (row.status, row.amount_refunded_minor) == (PaymentStatus.COMPLETED, 0)
    assert [r[2] for r in await refunds_of(db_session, row)] == ["FAILED", "FAILED"]


@pytest.mark.parametrize("status", [PaymentStatus.PROCESSING, PaymentStatus.FAILED])
async def test_a_refund_implies_the_capture(
    db_session: AsyncSession, status: PaymentStatus
) -> None:
    row = await captured(db_session, status=status)
    assert await apply(db_session, refund(row, 1000)) == "applied"
    assert (row.status, row.amount_refunded_minor) == (PaymentStatus.REFUNDED, 1000)
    changes = (
        await db_session.scalars(
            select(PaymentTransaction.to_status)
            .where(
                PaymentTransaction.payment_id == row.id, PaymentTransaction.kind == "STATUS_CHANGE"
            )
            .order_by(PaymentTransaction.seq)
        )
    ).all()
    assert list(changes) == ["COMPLETED", "REFUNDED"]


async def test_refund_of_a_cancelled_payment_stays_cancelled(db_session: AsyncSession) -> None:
    """Money Razorpay gave back on a cancelled payment (a late capture's refund, possibly seen
    before the capture): booked, the payment stays CANCELLED; a capture seen afterwards is not
    refunded a second time."""
    row = await captured(db_session, status=PaymentStatus.CANCELLED)
    assert await apply(db_session, refund(row, 1_000)) == "applied"
    assert (row.status, row.amount_refunded_minor) == (PaymentStatus.CANCELLED, 1_000)
    assert [r[2] for r in await refunds_of(db_session, row)] == ["PROCESSED"]
    late = sync.ProviderPayment(
        id=str(row.razorpay_payment_id), order_id=str(row.razorpay_order_id), status="captured",
        amount_minor=1_000, currency="INR", amount_refunded_minor=1_000,
    )  # fmt: skip
    result = await sync.apply_provider_payment(session=db_session, payment=late, source="test")
    assert result.outcome == "applied"
    assert [r[2] for r in await refunds_of(db_session, row)] == ["PROCESSED"]


async def test_a_stale_copy_of_our_refund_does_not_apply_it_twice(
    committed_engine: AsyncEngine,
) -> None:
    """refundPayment keeps its PENDING refund row in its session while Razorpay is asked; the
    webhook for that refund may commit first. Applying Razorpay's answer afterwards in the first
    session must see the committed row, not its stale copy (found end to end: 99.99 refunded
    as 199.98)."""
    maker = async_sessionmaker(committed_engine, expire_on_commit=False)
    async with maker() as requester, maker() as webhook:
        row = await captured(requester)
        mine = await ours(requester, row, 400, key=f"rfd_{uuid.uuid4().hex[:12]}")
        await requester.commit()  # as refunds.py does before calling Razorpay
        seen = refund(row, 400, receipt=mine.idempotency_key)

        assert await apply(webhook, seen) == "applied"
        await webhook.commit()

        assert mine.status == RefundStatus.PENDING  # the requester's copy is stale
        assert await apply(requester, seen) == "unchanged"
        await requester.commit()
        assert row.amount_refunded_minor == 400
        assert row.status == PaymentStatus.PARTIALLY_REFUNDED
