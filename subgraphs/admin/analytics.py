"""Analytics over a date range: accounts by role (`auth.user_directory`), payments by status and
settled volume by currency and UTC day (`payments.payment_facts`): read-only views their owners'
migrations publish (docs/architecture.md). Sums are exact: integers of minor units added up in
PostgreSQL, shown as Decimal major units with the currency's ISO 4217 exponent
(`shared.money.to_major`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    cast,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import BadUserInput
from shared.money import to_major
from subgraphs.admin.models import user_directory

MAX_RANGE = timedelta(days=366)
# Statuses whose money was captured: they make up the volume (refunds shown beside it).
SETTLED = ("COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED")

payment_facts = Table(
    "payment_facts",
    MetaData(schema="payments"),
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("status", String(24), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("amount_refunded_minor", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
P = payment_facts.c


@dataclass(frozen=True, slots=True)
class DailyVolume:
    day: date
    currency: str
    payments: int
    amount: Decimal
    refunded: Decimal

    @property
    def net(self) -> Decimal:
        return self.amount - self.refunded


@dataclass(frozen=True, slots=True)
class Report:
    since: datetime
    until: datetime
    users_by_role: dict[str, int]
    payments_by_status: dict[str, int]
    volume: list[DailyVolume]


def check_range(since: datetime, until: datetime) -> None:
    if until <= since:
        raise BadUserInput("`to` must be after `from`", field="to")
    if until - since > MAX_RANGE:
        raise BadUserInput("The range is limited to 366 days", field="to")


async def users_by_role(session: AsyncSession) -> dict[str, int]:
    """Live accounts (deleted ones left out) per role, now."""
    rows = await session.execute(
        select(user_directory.c.role, func.count())
        .where(user_directory.c.deleted_at.is_(None))
        .group_by(user_directory.c.role)
    )
    return {role: int(count) for role, count in rows}


async def payments_by_status(
    session: AsyncSession, *, since: datetime, until: datetime
) -> dict[str, int]:
    rows = await session.execute(
        select(P.status, func.count())
        .where(P.created_at >= since, P.created_at < until)
        .group_by(P.status)
    )
    return {status: int(count) for status, count in rows}


async def volume(session: AsyncSession, *, since: datetime, until: datetime) -> list[DailyVolume]:
    day = func.date(func.timezone("UTC", P.created_at)).label("day")
    rows = await session.execute(
        select(
            day,
            P.currency,
            cast(func.count(), Integer),
            func.sum(P.amount_minor),
            func.sum(P.amount_refunded_minor),
        )
        .where(P.created_at >= since, P.created_at < until, P.status.in_(SETTLED))
        .group_by(day, P.currency)
        .order_by(day, P.currency)
    )
    return [
        DailyVolume(
            day=row_day,
            currency=currency,
            payments=int(count),
            amount=to_major(int(amount), currency),
            refunded=to_major(int(refunded), currency),
        )
        for row_day, currency, count, amount, refunded in rows
    ]


async def report(*, session: AsyncSession, since: datetime, until: datetime) -> Report:
    check_range(since, until)
    return Report(
        since=since,
        until=until,
        users_by_role=await users_by_role(session),
        payments_by_status=await payments_by_status(session, since=since, until=until),
        volume=await volume(session, since=since, until=until),
    )
