"""Ledger rows of captures, refunds and failed refunds, written by the sync path in the same
transaction as the status change (each test in a rolled-back SAVEPOINT)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.payments.enums import PaymentStatus
from tests.ledger.support import (
    assert_balanced,
    assert_chained,
    capture,
    entries,
    processing,
    refund,
    refund_view,
    signed,
)


async def test_a_vendor_capture_books_amount_fees_and_razorpay_fee(
    db_session: AsyncSession,
) -> None:
    vendor = uuid.uuid4()
    row = await processing(db_session, amount_minor=100_000, fee_minor=2_300, vendor=vendor)
    assert await capture(db_session, row, fee=2_360, tax=360) == "applied"
    assert row.status == PaymentStatus.COMPLETED
    rows = await entries(db_session, row.id)
    assert signed(rows) == [
        ("capture", "razorpay_clearing", 100_000 - 2_360),
        ("psp_fee", "psp_fees", 2_000),
        ("psp_tax", "psp_tax", 360),
        ("capture", f"vendor_payable:{vendor}", -(100_000 - 2_300)),
        ("platform_fee", "platform_fees", -2_300),
    ]
    assert {r.currency for r in rows} == {"INR"}
    assert len({r.txn_id for r in rows}) == 1
    assert_balanced(rows)
    await assert_chained(db_session)
    # A second delivery of the capture writes nothing more.
    assert await capture(db_session, row, fee=2_360, tax=360) == "unchanged"
    assert len(await entries(db_session, row.id)) == 5


async def test_a_payment_without_vendor_is_platform_revenue(db_session: AsyncSession) -> None:
    row = await processing(db_session, amount_minor=5_000)
    await capture(db_session, row)
    assert signed(await entries(db_session, row.id)) == [
        ("capture", "razorpay_clearing", 5_000),
        ("capture", "platform_revenue", -5_000),
    ]


async def test_refunds_share_the_fee_and_a_full_refund_returns_everything(
    db_session: AsyncSession,
) -> None:
    vendor = uuid.uuid4()
    account = f"vendor_payable:{vendor}"
    row = await processing(db_session, amount_minor=10_001, fee_minor=333, vendor=vendor)
    await capture(db_session, row, fee=200, tax=30)
    for part in (3_333, 3_333, 3_335):
        assert await refund(db_session, refund_view(row, part)) == "applied"
    assert row.status == PaymentStatus.REFUNDED
    rows = await entries(db_session, row.id)
    assert_balanced(rows)
    refunds = [r for r in signed(rows) if r[0] == "refund"]
    assert sum(a for k, acc, a in refunds if acc == "razorpay_clearing") == -10_001
    # The vendor gives back exactly its net amount, the platform exactly its fee.
    owed = {
        acc: sum(a for _, x, a in signed(rows) if x == acc) for acc in (account, "platform_fees")
    }
    assert owed == {account: 0, "platform_fees": 0}
    # Razorpay keeps its fee: the clearing account ends at minus that fee.
    assert sum(a for _, acc, a in signed(rows) if acc == "razorpay_clearing") == -200
    await assert_chained(db_session)


async def test_a_refund_that_fails_after_processing_is_reversed_and_reopens(
    db_session: AsyncSession,
) -> None:
    vendor = uuid.uuid4()
    row = await processing(db_session, amount_minor=10_000, fee_minor=500, vendor=vendor)
    await capture(db_session, row)
    first, second = refund_view(row, 4_000), refund_view(row, 6_000)
    await refund(db_session, first)
    await refund(db_session, second)
    assert (row.status, row.amount_refunded_minor) == (PaymentStatus.REFUNDED, 10_000)
    assert await refund(db_session, refund_view(row, 6_000, "failed", id=second.id)) == "applied"
    assert (row.status, row.amount_refunded_minor) == (PaymentStatus.PARTIALLY_REFUNDED, 4_000)
    assert await refund(db_session, refund_view(row, 6_000, "failed", id=second.id)) == "unchanged"
    rows = await entries(db_session, row.id)
    reversal = [r for r in signed(rows) if r[0] == "refund_reversal"]
    original = [r for r in signed(rows) if r[0] == "refund"][-3:]
    assert [(acc, -a) for _, acc, a in original] == [(acc, a) for _, acc, a in reversal]
    assert_balanced(rows)
    # The other refund fails too: back to COMPLETED, with the status history recorded.
    await refund(db_session, refund_view(row, 4_000, "failed", id=first.id))
    assert (row.status, row.amount_refunded_minor) == (PaymentStatus.COMPLETED, 0)
    statuses = (
        await db_session.execute(
            text(
                "SELECT from_status, to_status FROM payments.payment_transactions "
                "WHERE payment_id = :p AND kind = 'STATUS_CHANGE' ORDER BY seq"
            ),
            {"p": row.id},
        )
    ).all()
    assert [tuple(s) for s in statuses][-2:] == [
        ("REFUNDED", "PARTIALLY_REFUNDED"),
        ("PARTIALLY_REFUNDED", "COMPLETED"),
    ]
    # What is owed is back to the capture's: vendor net, platform fee.
    owed = sum(
        a for _, acc, a in signed(await entries(db_session, row.id)) if acc.startswith("vendor")
    )
    assert owed == -9_500


async def test_rows_are_append_only(db_session: AsyncSession) -> None:
    row = await processing(db_session, amount_minor=5_000)
    await capture(db_session, row)
    entry = (await entries(db_session, row.id))[0]
    for statement in (
        "UPDATE payments.ledger_entries SET amount_minor = 1 WHERE id = :id",
        "DELETE FROM payments.ledger_entries WHERE id = :id",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with db_session.begin_nested():
                await db_session.execute(text(statement), {"id": entry.id})


async def test_the_ledger_cannot_be_truncated(db_session: AsyncSession) -> None:
    with pytest.raises(DBAPIError, match="append-only"):
        async with db_session.begin_nested():
            await db_session.execute(text("TRUNCATE payments.ledger_entries"))
