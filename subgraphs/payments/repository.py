"""SQL for payments, their transactions and the outbox. No business rules here."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.pagination import Keyset, keyset_before
from subgraphs.payments.enums import PaymentStatus, PaymentType
from subgraphs.payments.models import OutboxEvent, Payment, PaymentTransaction


@dataclass(frozen=True, slots=True)
class PaymentQuery:
    """Which payments a listing selects (already validated)."""

    party_id: uuid.UUID | None = None  # payer, payee or creator; None = everyone's (ADMIN)
    statuses: frozenset[PaymentStatus] | None = None
    types: frozenset[PaymentType] | None = None
    currency: str | None = None
    created_from: datetime | None = None  # inclusive
    created_to: datetime | None = None  # exclusive


def _conditions(query: PaymentQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.party_id is not None:
        conditions.append(
            or_(
                Payment.payer_id == query.party_id,
                Payment.payee_id == query.party_id,
                Payment.created_by == query.party_id,
            )
        )
    if query.statuses is not None:
        conditions.append(Payment.status.in_(sorted(query.statuses)))
    if query.types is not None:
        conditions.append(Payment.type.in_(sorted(query.types)))
    if query.currency is not None:
        conditions.append(Payment.currency == query.currency)
    if query.created_from is not None:
        conditions.append(Payment.created_at >= query.created_from)
    if query.created_to is not None:
        conditions.append(Payment.created_at < query.created_to)
    return conditions


def _filtered(statement: Select[Any], query: PaymentQuery) -> Select[Any]:
    conditions = _conditions(query)
    return statement.where(*conditions) if conditions else statement


async def list_payments(
    *, session: AsyncSession, query: PaymentQuery, after: Keyset | None, limit: int
) -> Sequence[Payment]:
    """One page in `(created_at DESC, id DESC)` order, starting after the cursor."""
    statement = _filtered(select(Payment), query)
    after_cursor = keyset_before(Payment.created_at, Payment.id, after)
    if after_cursor is not None:
        statement = statement.where(after_cursor)
    statement = statement.order_by(Payment.created_at.desc(), Payment.id.desc()).limit(limit)
    return (await session.scalars(statement)).all()


async def count_payments(*, session: AsyncSession, query: PaymentQuery) -> int:
    statement = _filtered(select(func.count()).select_from(Payment), query)
    return int(await session.scalar(statement) or 0)


async def get_payment(
    *, session: AsyncSession, payment_id: uuid.UUID, for_update: bool = False
) -> Payment | None:
    statement = select(Payment).where(Payment.id == payment_id)
    if for_update:
        statement = statement.with_for_update()
    return await session.scalar(statement)


async def get_payments(
    *, session: AsyncSession, payment_ids: Iterable[uuid.UUID]
) -> Sequence[Payment]:
    ids = list(payment_ids)
    if not ids:
        return []
    return (await session.scalars(select(Payment).where(Payment.id.in_(ids)))).all()


async def transactions_for(
    *, session: AsyncSession, payment_ids: Iterable[uuid.UUID]
) -> Sequence[PaymentTransaction]:
    """The transactions of several payments, oldest first within each payment."""
    ids = list(payment_ids)
    if not ids:
        return []
    statement = (
        select(PaymentTransaction)
        .where(PaymentTransaction.payment_id.in_(ids))
        .order_by(
            PaymentTransaction.payment_id,
            PaymentTransaction.created_at,
            PaymentTransaction.id,
        )
    )
    return (await session.scalars(statement)).all()


async def lock_creator_totals(
    *, session: AsyncSession, creator_id: uuid.UUID, currency: str
) -> None:
    """Serialize limit checks of one creator and currency until the transaction ends."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"payments:limits:{creator_id}:{currency}"},
    )


async def created_total_minor(
    *,
    session: AsyncSession,
    creator_id: uuid.UUID,
    currency: str,
    since: datetime,
    until: datetime,
    excluded: Iterable[PaymentStatus],
) -> int:
    """The sum of amounts a user created in a currency in `[since, until)`, leaving out some
    statuses."""
    statement = select(func.coalesce(func.sum(Payment.amount_minor), 0)).where(
        Payment.created_by == creator_id,
        Payment.currency == currency,
        Payment.created_at >= since,
        Payment.created_at < until,
        Payment.status.not_in(sorted(excluded)),
    )
    return int(await session.scalar(statement) or 0)


def add_transaction(
    *,
    session: AsyncSession,
    payment: Payment,
    kind: str,
    amount_minor: int,
    status: str,
    from_status: str | None,
    to_status: str | None,
    created_at: datetime,
    details: dict[str, Any] | None = None,
) -> PaymentTransaction:
    row = PaymentTransaction(
        id=uuid.uuid4(),
        payment_id=payment.id,
        kind=kind,
        amount_minor=amount_minor,
        status=status,
        from_status=from_status,
        to_status=to_status,
        created_at=created_at,
        details=details or {},
    )
    session.add(row)
    return row


def add_event(
    *,
    session: AsyncSession,
    type: str,
    actor_id: uuid.UUID | None,
    occurred_at: datetime,
    data: dict[str, Any],
) -> OutboxEvent:
    event = OutboxEvent(
        id=uuid.uuid4(), type=type, actor_id=actor_id, occurred_at=occurred_at, data=data
    )
    session.add(event)
    return event
