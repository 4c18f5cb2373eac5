"""Payment reads: one payment, listings and the payment report.

Who sees which rows is `access.py`'s rule; this module applies it to what the repository
reads. Creating payments is in `lifecycle/creation.py`, status changes in `lifecycle/status.py`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from shared.context import Principal
from shared.errors import BadUserInput
from shared.money import normalize_currency, to_major
from shared.pagination import PageRequest
from subgraphs.payments import access
from subgraphs.payments import repository as repo
from subgraphs.payments.enums import PaymentStatus
from subgraphs.payments.models import Payment
from subgraphs.payments.repository import PaymentQuery
from subgraphs.payments.state import SETTLED

MAX_REPORT_RANGE = timedelta(days=366)


def parse_id(value: str, *, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except (TypeError, ValueError):
        raise BadUserInput("Not a valid id", field=field) from None


async def get_visible_payment(
    *, session: AsyncSession, principal: Principal, payment_id: uuid.UUID
) -> Payment:
    payment = await repo.get_payment(session=session, payment_id=payment_id)
    return access.require_visible(principal, payment)


async def list_payments(
    *,
    session: AsyncSession | AsyncConnection | AsyncEngine,
    query: PaymentQuery,
    page: PageRequest,
) -> Sequence[Payment]:
    return await repo.list_payments(
        session=session, query=query, after=page.after, limit=page.fetch_size
    )


async def count_payments(*, session: AsyncSession, query: PaymentQuery) -> int:
    return await repo.count_payments(session=session, query=query)


# paymentReport: counts and money by currency and status over `[from, to)` (by creation time),
# over the caller's payments (`access.report_party`). Per currency: `count` (payments of every
# status), `gross` (amounts captured: the SETTLED statuses), `refunded` (processed refunds) and
# `net` (gross - refunded); per status and currency: count and amount. One grouped SQL
# statement; exact Decimal arithmetic.


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
    if end - start > MAX_REPORT_RANGE:
        raise BadUserInput("A report covers at most 366 days", field="to")
    code = normalize_currency(currency) if currency is not None else None
    rows = await repo.report_rows(
        session=session, party=access.report_party(principal), start=start, end=end, currency=code
    )
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
