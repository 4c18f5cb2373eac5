"""Writing the ledger rows of a money movement, in the caller's transaction: `sync/` calls these
right where it changes the payment's status, so the rows commit (or roll back) with it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.payments.ledger import postings
from subgraphs.payments.ledger import repository as ledger_repo
from subgraphs.payments.ledger.chain import append
from subgraphs.payments.models import LedgerEntry, Payment, Refund


async def record_capture(
    *,
    session: AsyncSession,
    payment: Payment,
    psp_fee_minor: int,
    psp_tax_minor: int,
    now: datetime,
) -> list[LedgerEntry]:
    """The capture of `payment` (amount, platform fee, Razorpay's fee and tax); for a CANCELLED
    payment, a late capture owed back to the customer."""
    build = postings.late_capture if payment.status == "CANCELLED" else postings.capture
    legs = build(payment, psp_fee_minor=psp_fee_minor, psp_tax_minor=psp_tax_minor)
    return await append(
        session=session, legs=legs, currency=payment.currency, now=now, payment_id=payment.id
    )


async def record_refund(
    *, session: AsyncSession, payment: Payment, refund: Refund, refunded_before: int, now: datetime
) -> list[LedgerEntry]:
    """A processed refund (call before `amount_refunded_minor` grows; `refunded_before` is it)."""
    given_back = 0
    if payment.payee_id is not None:
        given_back = await ledger_repo.account_debits(
            session=session,
            payment_id=payment.id,
            account=postings.vendor_account(payment.payee_id),
            kinds=(postings.REFUND, postings.REFUND_REVERSAL),
        )
    legs = postings.refund(
        payment,
        amount_minor=refund.amount_minor,
        refunded_before=refunded_before,
        vendor_given_back=given_back,
    )
    return await append(
        session=session,
        legs=legs,
        currency=payment.currency,
        now=now,
        payment_id=payment.id,
        refund_id=refund.id,
    )


async def record_refund_reversal(
    *, session: AsyncSession, payment: Payment, refund: Refund, now: datetime
) -> list[LedgerEntry]:
    """A processed refund that failed afterwards: its rows mirrored (nothing is edited)."""
    rows = await ledger_repo.entries_for_refund(
        session=session, refund_id=refund.id, kind=postings.REFUND
    )
    return await append(
        session=session,
        legs=postings.reversal(rows),
        currency=payment.currency,
        now=now,
        payment_id=payment.id,
        refund_id=refund.id,
    )
