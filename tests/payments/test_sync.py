"""sync/: applying Razorpay's view of payments and refunds, idempotently, against PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from subgraphs.payments import sync
from subgraphs.payments.enums import PaymentStatus
from subgraphs.payments.models import OutboxEvent, Payment, PaymentTransaction, Refund
from subgraphs.payments.sync import ProviderPayment, ProviderRefund
from tests.payments.factories import insert_payment, razorpay_id


async def processing(
    session: AsyncSession,
    *,
    status: PaymentStatus = PaymentStatus.PROCESSING,
    amount_minor: int = 1_000,
    commit: bool = False,
    **kw: Any,
) -> Payment:
    return await insert_payment(
        session,
        created_by=uuid.uuid4(),
        status=status,
        amount_minor=amount_minor,
        order_id=razorpay_id("order"),
        commit=commit,
        **kw,
    )


def provider(row: Payment, status: str, **kw: Any) -> ProviderPayment:
    assert row.razorpay_order_id is not None
    values: dict[str, Any] = {
        "id": razorpay_id("pay"),
        "order_id": row.razorpay_order_id,
        "status": status,
        "amount_minor": row.amount_minor,
        "currency": row.currency,
        "amount_refunded_minor": 0,
    }
    values.update(kw)
    return ProviderPayment(**values)


async def apply(session: AsyncSession, payment: ProviderPayment) -> sync.ApplyResult:
    return await sync.apply_provider_payment(session=session, payment=payment, source="test")


async def history(session: AsyncSession, row: Payment) -> list[tuple[str, str | None, str | None]]:
    rows = (
        await session.scalars(
            select(PaymentTransaction)
            .where(PaymentTransaction.payment_id == row.id)
            .order_by(PaymentTransaction.seq)
        )
    ).all()
    return [(t.kind, t.from_status, t.to_status) for t in rows if t.kind != "CREATE"]


async def status_changes(session: AsyncSession, row: Payment) -> list[tuple[str | None, ...]]:
    return [(f, t) for kind, f, t in await history(session, row) if kind == "STATUS_CHANGE"]


@pytest.mark.parametrize(
    ("status", "outcome", "expected", "kinds"),
    [
        ("captured", "applied", PaymentStatus.COMPLETED, {"CAPTURE", "STATUS_CHANGE"}),
        ("refunded", "applied", PaymentStatus.COMPLETED, {"CAPTURE", "STATUS_CHANGE"}),
        ("failed", "applied", PaymentStatus.FAILED, {"STATUS_CHANGE"}),
        ("authorized", "applied", PaymentStatus.PROCESSING, {"AUTHORIZATION"}),
        ("created", "unchanged", PaymentStatus.PROCESSING, set()),
    ],
)
async def test_each_razorpay_status(
    db_session: AsyncSession, status: str, outcome: str, expected: PaymentStatus, kinds: set[str]
) -> None:
    row = await processing(db_session)
    seen = provider(row, status, error_code="BAD_REQUEST_ERROR" if status == "failed" else None)
    result = await apply(db_session, seen)
    assert (result.outcome, result.payment_id) == (outcome, row.id)
    assert row.status == expected
    assert {kind for kind, _, _ in await history(db_session, row)} == kinds
    if outcome == "applied":
        assert row.razorpay_payment_id == seen.id


async def test_capture_writes_the_completed_event_once(db_session: AsyncSession) -> None:
    row = await processing(db_session)
    captured = provider(row, "captured")
    assert (await apply(db_session, captured)).outcome == "applied"
    for _ in range(2):
        assert (await apply(db_session, captured)).outcome == "unchanged"
    assert await status_changes(db_session, row) == [("PROCESSING", "COMPLETED")]
    events = (
        await db_session.scalars(
            select(OutboxEvent.type).where(OutboxEvent.data["paymentId"].astext == str(row.id))
        )
    ).all()
    assert list(events) == ["payments:payment:completed"]


async def test_authorization_recorded_once(db_session: AsyncSession) -> None:
    row = await processing(db_session)
    authorized = provider(row, "authorized")
    assert (await apply(db_session, authorized)).outcome == "applied"
    assert (await apply(db_session, authorized)).outcome == "unchanged"
    assert await history(db_session, row) == [("AUTHORIZATION", None, None)]


async def test_captured_before_authorized(db_session: AsyncSession) -> None:
    row = await processing(db_session)
    pay_id = razorpay_id("pay")
    assert (await apply(db_session, provider(row, "captured", id=pay_id))).outcome == "applied"
    late = provider(row, "authorized", id=pay_id)
    assert (await apply(db_session, late)).outcome == "unchanged"
    assert row.status == PaymentStatus.COMPLETED
    assert await status_changes(db_session, row) == [("PROCESSING", "COMPLETED")]


async def test_failed_after_captured_stays_completed(db_session: AsyncSession) -> None:
    row = await processing(db_session)
    pay_id = razorpay_id("pay")
    await apply(db_session, provider(row, "captured", id=pay_id))
    for failed in (provider(row, "failed", id=pay_id), provider(row, "failed")):
        assert (await apply(db_session, failed)).outcome == "unchanged"
    assert row.status == PaymentStatus.COMPLETED
    assert row.razorpay_payment_id == pay_id


async def test_late_capture_completes_a_failed_payment(db_session: AsyncSession) -> None:
    row = await processing(db_session)
    first, second = provider(row, "failed"), provider(row, "captured")
    assert (await apply(db_session, first)).outcome == "applied"
    assert row.status == PaymentStatus.FAILED
    assert (await apply(db_session, provider(row, "authorized", id=second.id))).outcome == (
        "applied"
    )
    assert row.status == PaymentStatus.FAILED
    assert (await apply(db_session, second)).outcome == "applied"
    assert row.status == PaymentStatus.COMPLETED
    assert row.razorpay_payment_id == second.id
    assert await status_changes(db_session, row) == [
        ("PROCESSING", "FAILED"),
        ("FAILED", "COMPLETED"),
    ]


@pytest.mark.parametrize("field", ["amount_minor", "currency"])
async def test_amount_or_currency_mismatch_changes_nothing(
    db_session: AsyncSession, field: str, caplog: pytest.LogCaptureFixture
) -> None:
    row = await processing(db_session)
    wrong = (
        {"amount_minor": row.amount_minor - 1} if field == "amount_minor" else {"currency": "USD"}
    )
    result = await apply(db_session, provider(row, "captured", **wrong))
    assert (result.outcome, result.payment_id) == ("mismatch", row.id)
    assert row.status == PaymentStatus.PROCESSING
    assert row.razorpay_payment_id is None
    assert await history(db_session, row) == []
    assert any(getattr(r, "security_event", None) == "provider_mismatch" for r in caplog.records)
    assert str(row.id) not in caplog.text


async def test_unknown_order_and_payment(db_session: AsyncSession) -> None:
    ghost = ProviderPayment(
        id=razorpay_id("pay"),
        order_id=razorpay_id("order"),
        status="captured",
        amount_minor=1000,
        currency="INR",
        amount_refunded_minor=0,
    )
    assert await apply(db_session, ghost) == sync.ApplyResult("unknown_order", None)
    refund = ProviderRefund(
        id=razorpay_id("rfnd"),
        payment_id=ghost.id,
        amount_minor=100,
        currency="INR",
        status="processed",
    )
    result = await sync.apply_provider_refund(session=db_session, refund=refund, source="test")
    assert result == sync.ApplyResult("unknown_order", None)


async def test_capture_on_a_cancelled_payment_is_a_late_capture(db_session: AsyncSession) -> None:
    """The payment stays CANCELLED; the capture is booked and refunded once (late_capture.py,
    tested end to end in tests/webhooks/test_late_capture.py)."""
    row = await processing(db_session, status=PaymentStatus.CANCELLED)
    assert (await apply(db_session, provider(row, "captured"))).outcome == "applied"
    assert (await apply(db_session, provider(row, "captured"))).outcome == "unchanged"
    assert (await apply(db_session, provider(row, "authorized"))).outcome == "unchanged"
    assert row.status == PaymentStatus.CANCELLED
    refunds = (await db_session.scalars(select(Refund).where(Refund.payment_id == row.id))).all()
    assert [(r.status, r.amount_minor) for r in refunds] == [("PENDING", row.amount_minor)]


async def test_concurrent_captures_make_one_transition(committed_engine: AsyncEngine) -> None:
    maker = async_sessionmaker(committed_engine, expire_on_commit=False, autoflush=False)
    async with maker() as session:
        row = await processing(session, commit=True)
    captured = provider(row, "captured")

    async def one() -> str:
        async with maker() as session:
            result = await apply(session, captured)
            await session.commit()
            return result.outcome

    outcomes = await asyncio.gather(*(one() for _ in range(8)))
    assert sorted(outcomes) == ["applied"] + ["unchanged"] * 7
    async with maker() as session:
        completed = await session.scalar(
            select(func.count())
            .select_from(PaymentTransaction)
            .where(
                PaymentTransaction.payment_id == row.id,
                PaymentTransaction.kind == "STATUS_CHANGE",
                PaymentTransaction.to_status == "COMPLETED",
            )
        )
        assert completed == 1
        fresh = await session.get(Payment, row.id)
        assert fresh is not None
        assert fresh.status == PaymentStatus.COMPLETED
