"""Payment reads: who sees which payment, and listings.

Visibility: a payment is visible to its payer, its payee, its creator and ADMIN; to anyone else
it does not exist (NOT_FOUND, never FORBIDDEN, so ids cannot be probed). Creating payments is in
`creation.py`, status changes in `lifecycle.py`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from shared.context import Principal
from shared.errors import BadUserInput, Forbidden, NotFound
from shared.pagination import PageRequest
from subgraphs.payments import repository as repo
from subgraphs.payments.enums import PaymentType
from subgraphs.payments.models import Payment
from subgraphs.payments.repository import PaymentQuery


def can_view(principal: Principal, payment: Payment) -> bool:
    return principal.is_admin or principal.id in (
        payment.payer_id,
        payment.payee_id,
        payment.created_by,
    )


def payer_of(payment: Payment) -> uuid.UUID | None:
    """Who pays: the creator of a PAYMENT, the named payer of an INITIATE request."""
    if payment.type == PaymentType.PAYMENT:
        return payment.created_by
    return payment.payer_id


def ensure_payer(principal: Principal, payment: Payment | None) -> Payment:
    """The payment, if the caller is its payer: NOT_FOUND when the caller cannot see it,
    FORBIDDEN when they can but do not pay it (ADMIN included: paying is the payer's act)."""
    if payment is None or not can_view(principal, payment):
        raise NotFound("Payment not found")
    if payer_of(payment) != principal.id:
        raise Forbidden("Only the payer can do this")
    return payment


def parse_id(value: str, *, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except (TypeError, ValueError):
        raise BadUserInput("Not a valid id", field=field) from None


async def get_visible_payment(
    *, session: AsyncSession, principal: Principal, payment_id: uuid.UUID
) -> Payment:
    payment = await repo.get_payment(session=session, payment_id=payment_id)
    if payment is None or not can_view(principal, payment):
        raise NotFound("Payment not found")
    return payment


def visible_query(principal: Principal, query: PaymentQuery) -> PaymentQuery:
    """Narrow a listing to the caller's own payments unless the caller is ADMIN."""
    if principal.is_admin:
        return query
    return PaymentQuery(
        party_id=principal.id,
        statuses=query.statuses,
        types=query.types,
        currency=query.currency,
        created_from=query.created_from,
        created_to=query.created_to,
    )


async def list_payments(
    *, session: AsyncSession, query: PaymentQuery, page: PageRequest
) -> Sequence[Payment]:
    return await repo.list_payments(
        session=session, query=query, after=page.after, limit=page.fetch_size
    )


async def count_payments(*, session: AsyncSession, query: PaymentQuery) -> int:
    return await repo.count_payments(session=session, query=query)
