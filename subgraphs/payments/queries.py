"""Payments queries: resolvers read arguments, call the service and map the result."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from shared.pagination import After, Connection, First
from shared.scopes import Scope
from subgraphs.payments import access, service
from subgraphs.payments.context import Context
from subgraphs.payments.inputs import PaymentFilter
from subgraphs.payments.repository import PaymentQuery
from subgraphs.payments.types import READ, Payment, PaymentReport, payment_connection

REPORT = [[Scope.PAYMENTS_REPORT.value]]


async def resolve_payment(
    info: Info[Context, None],
    id: Annotated[strawberry.ID, strawberry.argument(description="The payment's id.")],
) -> Payment | None:
    principal = info.context.require_principal()
    payment_id = service.parse_id(str(id), field="id")
    async with info.context.db() as session:
        row = await service.get_visible_payment(
            session=session, principal=principal, payment_id=payment_id
        )
    return Payment.from_row(row)


async def resolve_payments(
    info: Info[Context, None],
    filter: Annotated[
        PaymentFilter | None,
        strawberry.argument(description="Conditions the payments must meet."),
    ] = None,
    first: First = 20,
    after: After = None,
) -> Connection[Payment]:
    principal = info.context.require_principal()
    query = filter.to_query() if filter is not None else PaymentQuery()
    return await payment_connection(
        info.context, access.visible_query(principal, query), first, after
    )


async def resolve_payment_report(
    info: Info[Context, None],
    from_: Annotated[
        datetime,
        strawberry.argument(
            name="from", description="Start of the range of createdAt (inclusive)."
        ),
    ],
    to: Annotated[
        datetime, strawberry.argument(description="End of the range of createdAt (exclusive).")
    ],
    currency: Annotated[
        str | None,
        strawberry.argument(description="Only this currency (ISO 4217); every one when left out."),
    ] = None,
) -> PaymentReport:
    principal = info.context.require_principal()
    async with info.context.db() as session:
        result = await service.payment_report(
            session=session, principal=principal, start=from_, end=to, currency=currency
        )
    return PaymentReport.from_report(result)


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
    payment_report: PaymentReport = strawberry.federation.field(
        resolver=resolve_payment_report,
        description=(
            "Counts and totals per currency and status of payments created in [from, to): "
            "a VENDOR's own (payee or creator), ADMIN's all."
        ),
        authenticated=True,
        requires_scopes=REPORT,
    )
