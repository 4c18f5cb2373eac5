"""The financial report: per period (UTC day, ISO week, month) and currency, sums of ledger rows.

- captured: credits of capture rows (vendor payable + platform fee, platform revenue, or owed to
  the customer for a late capture) = the gross amounts captured;
- refunded: credits of `razorpay_clearing` by refunds, less their reversals;
- platformFees: `platform_fees` credits minus debits (the fee share returned on refunds);
- pspFees: debits of `psp_fees` and `psp_tax`;
- payableToVendors: `vendor_payable:*` credits minus debits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import BadUserInput

MAX_SPAN = timedelta(days=3 * 366)

_REPORT = text(
    """
    SELECT date_trunc(:period, created_at, 'UTC') AS period_start,
           currency,
           SUM(CASE WHEN direction = 'CREDIT'
                     AND kind IN ('capture', 'platform_fee', 'late_capture')
                    THEN amount_minor ELSE 0 END) AS captured,
           SUM(CASE WHEN account = 'razorpay_clearing' AND kind = 'refund'
                    THEN amount_minor
                    WHEN account = 'razorpay_clearing' AND kind = 'refund_reversal'
                    THEN -amount_minor ELSE 0 END) AS refunded,
           SUM(CASE WHEN account = 'platform_fees'
                    THEN CASE direction WHEN 'CREDIT' THEN amount_minor ELSE -amount_minor END
                    ELSE 0 END) AS platform_fees,
           SUM(CASE WHEN account IN ('psp_fees', 'psp_tax')
                    THEN CASE direction WHEN 'DEBIT' THEN amount_minor ELSE -amount_minor END
                    ELSE 0 END) AS psp_fees,
           SUM(CASE WHEN account LIKE 'vendor\\_payable:%'
                    THEN CASE direction WHEN 'CREDIT' THEN amount_minor ELSE -amount_minor END
                    ELSE 0 END) AS payable
    FROM payments.ledger_entries
    WHERE created_at >= :start AND created_at < :end
    GROUP BY 1, 2
    ORDER BY 1, 2
    """
)


@dataclass(frozen=True, slots=True)
class ReportRow:
    period_start: datetime
    currency: str
    captured_minor: int
    refunded_minor: int
    platform_fees_minor: int
    psp_fees_minor: int
    payable_minor: int


async def financial_report(
    *, session: AsyncSession, period: str, start: datetime, end: datetime
) -> list[ReportRow]:
    """Rows for ledger entries written in [start, end), `period` one of day, week, month."""
    if start.tzinfo is None or end.tzinfo is None:
        raise BadUserInput("Give from and to with a UTC offset", field="from")
    if end <= start:
        raise BadUserInput("to must be later than from", field="to")
    if end - start > MAX_SPAN:
        raise BadUserInput("A report covers at most three years", field="to")
    rows = await session.execute(_REPORT, {"period": period, "start": start, "end": end})
    return [
        ReportRow(
            period_start=r.period_start,
            currency=r.currency,
            captured_minor=int(r.captured),
            refunded_minor=int(r.refunded),
            platform_fees_minor=int(r.platform_fees),
            psp_fees_minor=int(r.psp_fees),
            payable_minor=int(r.payable),
        )
        for r in rows
    ]
