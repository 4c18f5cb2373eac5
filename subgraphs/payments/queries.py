"""Payments queries: resolvers read arguments, call the service and map the result."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from shared.pagination import Connection
from subgraphs.payments import service
from subgraphs.payments.context import Context
from subgraphs.payments.inputs import PaymentFilter
from subgraphs.payments.repository import PaymentQuery
from subgraphs.payments.types import READ, Payment, payment_connection


async def resolve_payment(info: Info[Context, None], id: strawberry.ID) -> Payment | None:
    principal = info.context.require_principal()
    payment_id = service.parse_id(str(id), field="id")
    async with info.context.db() as session:
        row = await service.get_visible_payment(
            session=session, principal=principal, payment_id=payment_id
        )
    return Payment.from_row(row)


async def resolve_payments(
    info: Info[Context, None],
    filter: PaymentFilter | None = None,
    first: int | None = 20,
    after: str | None = None,
) -> Connection[Payment]:
    principal = info.context.require_principal()
    query = filter.to_query() if filter is not None else PaymentQuery()
    return await payment_connection(
        info.context, service.visible_query(principal, query), first, after
    )


@strawberry.type
class Query:
    payment: Payment | None = strawberry.federation.field(
        resolver=resolve_payment,
        description="One payment: its payer, payee or creator, or ADMIN; else NOT_FOUND.",
        authenticated=True,
        requires_scopes=READ,
    )
    payments: Connection[Payment] = strawberry.federation.field(
        resolver=resolve_payments,
        description=(
            "Payments newest first: CUSTOMER and VENDOR see those they pay, receive or created; "
            "ADMIN sees all."
        ),
        authenticated=True,
        requires_scopes=READ,
    )
