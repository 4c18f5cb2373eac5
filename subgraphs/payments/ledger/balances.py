"""A vendor's balances, derived from the ledger rows of its `vendor_payable:<id>` account only
(no counter that could drift): credits (captures) minus debits (refunds) plus reversals, per
currency. All rows of one payment settle together: they are `pending` until the payment's
capture row is older than the settlement delay of its priority, `available` after."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.payments.ledger.postings import vendor_account

_BALANCES = text(
    """
    WITH legs AS (
        SELECT e.currency,
               CASE e.direction WHEN 'CREDIT' THEN e.amount_minor ELSE -e.amount_minor END AS owed,
               MIN(e.created_at) OVER (PARTITION BY e.payment_id)
                 + CASE p.priority WHEN 'INSTANT' THEN CAST(:instant AS interval)
                                   ELSE CAST(:standard AS interval) END AS settles_at
        FROM payments.ledger_entries e
        JOIN payments.payments p ON p.id = e.payment_id
        WHERE e.account = :account
    )
    SELECT currency,
           SUM(CASE WHEN settles_at <= :now THEN owed ELSE 0 END) AS available,
           SUM(CASE WHEN settles_at <= :now THEN 0 ELSE owed END) AS pending
    FROM legs
    GROUP BY currency
    ORDER BY currency
    """
)


@dataclass(frozen=True, slots=True)
class SettlementDelays:
    """How long a captured payment's money stays pending, by priority."""

    standard: timedelta = timedelta(days=2)
    instant: timedelta = timedelta(0)


@dataclass(frozen=True, slots=True)
class VendorBalance:
    currency: str
    pending_minor: int
    available_minor: int


async def vendor_balances(
    *,
    session: AsyncSession,
    vendor_id: uuid.UUID,
    now: datetime,
    delays: SettlementDelays,
) -> list[VendorBalance]:
    rows = await session.execute(
        _BALANCES,
        {
            "account": vendor_account(vendor_id),
            "now": now,
            "standard": delays.standard,
            "instant": delays.instant,
        },
    )
    return [
        VendorBalance(
            currency=r.currency, pending_minor=int(r.pending), available_minor=int(r.available)
        )
        for r in rows
    ]
