"""paymentReport: counts and money by currency and status over `[from, to)` (by creation time).

A VENDOR's report covers the payments they receive (payee) or created; ADMIN's covers all.
Per currency: `count` (payments of every status), `gross` (amounts captured: COMPLETED,
PARTIALLY_REFUNDED, REFUNDED), `refunded` (processed refunds) and `net` (gross - refunded); per
status and currency: count and amount. One grouped SQL statement; exact Decimal arithmetic.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.context import Principal
from shared.errors import BadUserInput
from shared.money import normalize_currency, to_major
from subgraphs.payments.enums import PaymentStatus
from subgraphs.payments.models import Payment
from subgraphs.payments.provider_types import SETTLED

MAX_RANGE = timedelta(days=366)


@dataclass(frozen=True, slots=True)
class StatusLine:
    status: PaymentStatus
    currency: str
    count: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class CurrencyLine:
    currency: str
    count: int
    captured_count: int
    gross: Decimal
    refunded: Decimal
    net: Decimal


@dataclass(frozen=True, slots=True)
class Report:
    start: datetime
    end: datetime
    currency: str | None
    currencies: list[CurrencyLine]
    statuses: list[StatusLine]


async def payment_report(
    *,
    session: AsyncSession,
    principal: Principal,
    start: datetime,
    end: datetime,
    currency: str | None = None,
) -> Report:
    if start.tzinfo is None or end.tzinfo is None:
        raise BadUserInput("Dates need a UTC offset", field="from")
    if start >= end:
        raise BadUserInput("`to` must be later than `from`", field="to")
    if end - start > MAX_RANGE:
        raise BadUserInput("A report covers at most 366 days", field="to")
    code = normalize_currency(currency) if currency is not None else None
    rows = await _grouped(session, None if principal.is_admin else principal.id, start, end, code)
    statuses: list[StatusLine] = []
    totals: dict[str, list[int]] = {}  # currency -> [count, captured count, gross, refunded]
    for status, cur, count, amount, refunded in rows:
        statuses.append(StatusLine(PaymentStatus(status), cur, count, to_major(amount, cur)))
        line = totals.setdefault(cur, [0, 0, 0, 0])
        line[0] += count
        if status in SETTLED:
            line[1] += count
            line[2] += amount
            line[3] += refunded
    currencies = [
        CurrencyLine(
            currency=cur,
            count=count,
            captured_count=captured,
            gross=to_major(gross, cur),
            refunded=to_major(refunded, cur),
            net=to_major(gross - refunded, cur),
        )
        for cur, (count, captured, gross, refunded) in sorted(totals.items())
    ]
    return Report(start, end, code, currencies, statuses)


async def _grouped(
    session: AsyncSession,
    party: uuid.UUID | None,
    start: datetime,
    end: datetime,
    currency: str | None,
) -> list[tuple[str, str, int, int, int]]:
    statement = select(
        Payment.status,
        Payment.currency,
        func.count(),
        func.coalesce(func.sum(Payment.amount_minor), 0),
        func.coalesce(func.sum(Payment.amount_refunded_minor), 0),
    ).where(Payment.created_at >= start, Payment.created_at < end)
    if party is not None:
        statement = statement.where(or_(Payment.payee_id == party, Payment.created_by == party))
    if currency is not None:
        statement = statement.where(Payment.currency == currency)
    statement = statement.group_by(Payment.currency, Payment.status).order_by(
        Payment.currency, Payment.status
    )
    result = await session.execute(statement)
    return [(s, c, int(n), int(a), int(r)) for s, c, n, a, r in result.all()]
