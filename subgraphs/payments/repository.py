"""SQL for payments, their transactions and the outbox. No business rules here."""

from __future__ import annotations

import functools
import uuid
from collections import namedtuple
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    TableValuedAlias,
    Uuid,
    any_,
    bindparam,
    column,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm import aliased

from shared.db import ReadStatement, read_all
from shared.outbox import with_trace_context
from shared.pagination import Keyset, keyset_before, keyset_page_bound, keyset_params
from subgraphs.payments.enums import PaymentStatus, PaymentType
from subgraphs.payments.models import OutboxEvent, Payment, PaymentTransaction
from subgraphs.payments.state import ORDER_OPEN


@dataclass(frozen=True, slots=True)
class PaymentQuery:
    """Which payments a listing selects (already validated)."""

    party_id: uuid.UUID | None = None  # payer, payee or creator; None = everyone's (ADMIN)
    statuses: frozenset[PaymentStatus] | None = None
    types: frozenset[PaymentType] | None = None
    currency: str | None = None
    created_from: datetime | None = None  # inclusive
    created_to: datetime | None = None  # exclusive


Party = uuid.UUID | ColumnElement[uuid.UUID]


def party_condition(user: Party) -> ColumnElement[bool]:
    """The user pays, receives or created the payment: `access.can_view` in SQL (ADMIN aside)."""
    return or_(Payment.payer_id == user, Payment.payee_id == user, Payment.created_by == user)


def report_condition(user: Party) -> ColumnElement[bool]:
    """The payments a non-ADMIN's report covers (`access.report_party`): received or created."""
    return or_(Payment.payee_id == user, Payment.created_by == user)


def _conditions(query: PaymentQuery) -> list[ColumnElement[bool]]:
    # On the table's columns (not the mapped attributes): the statements stay Core statements.
    # Named parameters: `_page_statement` builds a statement once per shape and
    # `_params` gives the values under these names.
    c = Payment.__table__.c
    conditions: list[ColumnElement[bool]] = []
    if query.party_id is not None:
        party = bindparam("party", query.party_id, type_=c.payer_id.type)
        conditions.append(or_(c.payer_id == party, c.payee_id == party, c.created_by == party))
    # `= ANY(:array)` rather than an expanding `IN`: one SQL text whatever the list's length
    # (`shared.db.ReadStatement` refuses statements SQLAlchemy rewrites per execution).
    if query.statuses is not None:
        statuses = bindparam("statuses", sorted(query.statuses), type_=ARRAY(c.status.type))
        conditions.append(c.status == any_(statuses))
    if query.types is not None:
        types = bindparam("types", sorted(query.types), type_=ARRAY(c.type.type))
        conditions.append(c.type == any_(types))
    if query.currency is not None:
        conditions.append(c.currency == bindparam("currency", query.currency))
    if query.created_from is not None:
        conditions.append(c.created_at >= bindparam("created_from", query.created_from))
    if query.created_to is not None:
        conditions.append(c.created_at < bindparam("created_to", query.created_to))
    return conditions


def _params(query: PaymentQuery) -> dict[str, Any]:
    """The values of `_conditions`' parameters."""
    params: dict[str, Any] = {}
    if query.party_id is not None:
        params["party"] = query.party_id
    if query.statuses is not None:
        params["statuses"] = sorted(query.statuses)
    if query.types is not None:
        params["types"] = sorted(query.types)
    if query.currency is not None:
        params["currency"] = query.currency
    if query.created_from is not None:
        params["created_from"] = query.created_from
    if query.created_to is not None:
        params["created_to"] = query.created_to
    return params


def _filtered(statement: Select[Any], query: PaymentQuery) -> Select[Any]:
    conditions = _conditions(query)
    return statement.where(*conditions) if conditions else statement


_PAYMENTS = Payment.__table__.c  # the table's columns: Core statements, no ORM entities

# A listed payment: a named tuple of the table's columns under their attribute names. A
# SQLAlchemy `Row` answers an attribute through Python-level lookup (about 0.2 us each, and a
# page's `from_row` reads some 25 per row); a named tuple's are C-level.
PaymentRecord = namedtuple("PaymentRecord", [column.key for column in _PAYMENTS])  # type: ignore[misc]
_RECORD_LENGTH = len(PaymentRecord._fields)
# `PaymentRecord._make` without its Python-level frame per row (the statement selects exactly
# the record's columns, checked once per page).
_record = functools.partial(tuple.__new__, PaymentRecord)

# Stand-ins for the filters a listing has: `_page_statement` is built from them once per shape
# (which filters, whether a cursor), the real values go as parameters.
_SHAPE_PARTY = uuid.UUID(int=0)
_SHAPE_TIME = datetime(2000, 1, 1, tzinfo=UTC)


def _shape(query: PaymentQuery) -> PaymentQuery:
    return PaymentQuery(
        party_id=None if query.party_id is None else _SHAPE_PARTY,
        statuses=None if query.statuses is None else frozenset(),
        types=None if query.types is None else frozenset(),
        currency=None if query.currency is None else "",
        created_from=None if query.created_from is None else _SHAPE_TIME,
        created_to=None if query.created_to is None else _SHAPE_TIME,
    )


@functools.lru_cache(maxsize=128)  # 2^7 shapes at most
def _page_statement(shape: PaymentQuery, after: bool) -> ReadStatement:
    return ReadStatement(
        keyset_page_bound(
            _filtered(select(*_PAYMENTS), shape), _PAYMENTS.created_at, _PAYMENTS.id, after=after
        )
    )


async def list_payments(
    *,
    session: AsyncSession | AsyncConnection | AsyncEngine,
    query: PaymentQuery,
    after: Keyset | None,
    limit: int,
) -> Sequence[Payment]:
    """One page in `(created_at DESC, id DESC)` order, starting after the cursor.

    The hot read path: a Core statement over the table's columns returns plain rows (named
    tuples, `PaymentRecord`), not ORM instances (no identity map, no instance state, a fraction
    of the CPU). Each row has every column of a `Payment` as an attribute under the same name,
    which is all a read needs; they cannot be changed or added to a session (writes load
    payments with `get_payment`). `session` may be the engine (`queries.read_only`): the
    page is then read on a pooled connection's driver, outside a transaction
    (`shared.db.read_all`). The statement is built once per shape of the query
    (`_page_statement`) and run with the values as parameters: building it per request was
    about a tenth of the subgraph's CPU for a 20-row page (docs/performance.md)."""
    read = _page_statement(_shape(query), after is not None)
    params = {**_params(query), **keyset_params(after, limit)}
    rows = await read_all(session, read, params)
    if rows and len(rows[0]) != _RECORD_LENGTH:  # `_make`'s check, once per page
        raise TypeError(f"Expected {_RECORD_LENGTH} columns, got {len(rows[0])}")
    return cast(Sequence[Payment], list(map(_record, rows)))


async def count_payments(*, session: AsyncSession, query: PaymentQuery) -> int:
    statement = _filtered(select(func.count()).select_from(Payment), query)
    return int(await session.scalar(statement) or 0)


def _parties(user_ids: Iterable[uuid.UUID]) -> TableValuedAlias:
    """`unnest(:user_ids) AS parties(user_id)`: one row per distinct user of a batch."""
    ids = sorted(set(user_ids))
    array = bindparam("user_ids", ids, type_=ARRAY(Uuid()))
    return func.unnest(array).table_valued(column("user_id", Uuid())).render_derived("parties")


async def list_payments_of_parties(
    *, session: AsyncSession, user_ids: Iterable[uuid.UUID], after: Keyset | None, limit: int
) -> Sequence[tuple[uuid.UUID, Payment]]:
    """For each user, the page `list_payments(PaymentQuery(party_id=user))` would return, in one
    statement: `(user id, payment)` pairs, per user in `(created_at DESC, id DESC)` order."""
    parties = _parties(user_ids)
    position = (
        func.row_number()
        .over(
            partition_by=parties.c.user_id,
            order_by=(Payment.created_at.desc(), Payment.id.desc()),
        )
        .label("position")
    )
    ranked = select(Payment, parties.c.user_id.label("party_id"), position).join_from(
        parties, Payment, party_condition(parties.c.user_id)
    )
    after_cursor = keyset_before(Payment.created_at, Payment.id, after)
    if after_cursor is not None:
        ranked = ranked.where(after_cursor)
    page = ranked.subquery("page")
    payment = aliased(Payment, page)
    statement = (
        select(page.c.party_id, payment)
        .where(page.c.position <= limit)
        .order_by(page.c.party_id, page.c.position)
    )
    return [(party_id, row) for party_id, row in (await session.execute(statement)).all()]


async def count_payments_of_parties(
    *, session: AsyncSession, user_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """`count_payments(PaymentQuery(party_id=user))` for several users in one statement (users
    without payments are absent)."""
    parties = _parties(user_ids)
    statement = (
        select(parties.c.user_id, func.count())
        .select_from(parties)
        .join(Payment, party_condition(parties.c.user_id))
        .group_by(parties.c.user_id)
    )
    return {user_id: int(count) for user_id, count in (await session.execute(statement)).all()}


async def get_payment(
    *, session: AsyncSession, payment_id: uuid.UUID, for_update: bool = False
) -> Payment | None:
    return await _one(session, select(Payment).where(Payment.id == payment_id), for_update)


async def get_payment_by_order_id(
    *, session: AsyncSession, order_id: str, for_update: bool = False
) -> Payment | None:
    statement = select(Payment).where(Payment.razorpay_order_id == order_id)
    return await _one(session, statement, for_update)


async def get_payment_by_provider_payment_id(
    *, session: AsyncSession, provider_payment_id: str, for_update: bool = False
) -> Payment | None:
    statement = select(Payment).where(Payment.razorpay_payment_id == provider_payment_id)
    return await _one(session, statement, for_update)


async def _one(session: AsyncSession, statement: Select[Any], for_update: bool) -> Payment | None:
    if for_update:
        # Locked reads refresh a row the session already holds: what it saw before the lock
        # may be stale.
        statement = statement.with_for_update().execution_options(populate_existing=True)
    payment: Payment | None = await session.scalar(statement)
    return payment


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
            PaymentTransaction.seq,
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
    created_at: datetime,
    from_status: str | None = None,
    to_status: str | None = None,
    details: dict[str, Any] | None = None,
) -> PaymentTransaction:
    """One step in the payment's history; `from_status` / `to_status` only for status changes."""
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
        id=uuid.uuid4(),
        type=type,
        actor_id=actor_id,
        occurred_at=occurred_at,
        data=with_trace_context(data),  # the live-update push links to this trace
    )
    session.add(event)
    return event


async def has_transaction(
    *, session: AsyncSession, payment_id: uuid.UUID, kind: str, provider_payment_id: str
) -> bool:
    """Whether the payment already has a `kind` row about this Razorpay payment."""
    statement = select(PaymentTransaction.id).where(
        PaymentTransaction.payment_id == payment_id,
        PaymentTransaction.kind == kind,
        PaymentTransaction.details["razorpayPaymentId"].astext == provider_payment_id,
    )
    return (await session.scalar(statement.limit(1))) is not None


async def reconcile_candidates(
    *, session: AsyncSession, stuck_before: datetime, since: datetime, limit: int
) -> Sequence[tuple[uuid.UUID, str]]:
    """(id, Razorpay order id) of PROCESSING and FAILED payments last changed in
    `[since, stuck_before)`, not reconciled since `stuck_before`; least recently checked first."""
    statement = (
        select(Payment.id, Payment.razorpay_order_id)
        .where(
            Payment.status.in_(sorted(ORDER_OPEN)),
            Payment.razorpay_order_id.is_not(None),
            Payment.updated_at < stuck_before,
            Payment.updated_at >= since,
            or_(Payment.last_reconciled_at.is_(None), Payment.last_reconciled_at < stuck_before),
        )
        .order_by(Payment.last_reconciled_at.asc().nulls_first(), Payment.updated_at)
        .limit(limit)
    )
    return [(pid, str(order)) for pid, order in (await session.execute(statement)).all()]


async def mark_reconciled(*, session: AsyncSession, payment_id: uuid.UUID, at: datetime) -> None:
    """Bookkeeping only: no version bump, so it never conflicts with a concurrent change."""
    await session.execute(
        update(Payment)
        .where(Payment.id == payment_id)
        .values(last_reconciled_at=at)
        .execution_options(synchronize_session=False)
    )


async def report_rows(
    *,
    session: AsyncSession,
    party: uuid.UUID | None,
    start: datetime,
    end: datetime,
    currency: str | None,
) -> list[tuple[str, str, int, int, int]]:
    """(status, currency, count, amount, refunded) of payments created in `[start, end)`, grouped
    by currency and status; only `party`'s (`report_condition`) unless it is None."""
    statement = select(
        Payment.status,
        Payment.currency,
        func.count(),
        func.coalesce(func.sum(Payment.amount_minor), 0),
        func.coalesce(func.sum(Payment.amount_refunded_minor), 0),
    ).where(Payment.created_at >= start, Payment.created_at < end)
    if party is not None:
        statement = statement.where(report_condition(party))
    if currency is not None:
        statement = statement.where(Payment.currency == currency)
    statement = statement.group_by(Payment.currency, Payment.status).order_by(
        Payment.currency, Payment.status
    )
    result = await session.execute(statement)
    return [(s, c, int(n), int(a), int(r)) for s, c, n, a, r in result.all()]
