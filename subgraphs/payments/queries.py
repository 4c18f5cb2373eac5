"""Payments queries: resolvers read arguments, call the service and map the result."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from strawberry.types import Info

from shared.pagination import Connection, PageRequest, build_connection
from shared.scopes import Scope
from subgraphs.payments import access, service
from subgraphs.payments.context import Context
from subgraphs.payments.inputs import PaymentFilter
from subgraphs.payments.repository import PaymentQuery
from subgraphs.payments.types import READ, Payment, PaymentReport

REPORT = [[Scope.PAYMENTS_REPORT.value]]


async def resolve_payment(info: Info[Context, None], id: strawberry.ID) -> Payment | None:
    principal = info.context.require_principal()
    payment_id = service.parse_id(str(id), field="id")
    async with info.context.db() as session:
        row = await service.get_visible_payment(
            session=session, principal=principal, payment_id=payment_id
        )
    return Payment.from_row(row)


@asynccontextmanager
async def read_only(context: Context) -> AsyncIterator[AsyncSession]:
    """A session on a pooled connection of its own in autocommit mode, for a read that is one
    statement: no BEGIN and ROLLBACK around it (two round trips, and about a tenth of the
    subgraph's CPU for the list query: docs/performance.md). When the sessionmaker is bound to
    something else than an engine (a test's connection), the request's session."""
    bind = context.sessionmaker.kw.get("bind")
    if not isinstance(bind, AsyncEngine):
        async with context.db() as session:
            yield session
        return
    async with bind.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        async with AsyncSession(bind=connection, autoflush=False) as session:
            yield session


async def resolve_payments(
    info: Info[Context, None],
    filter: PaymentFilter | None = None,
    first: int | None = 20,
    after: str | None = None,
) -> Connection[Payment]:
    """`payment_connection` with the page read outside a transaction (`read_only`)."""
    context = info.context
    principal = context.require_principal()
    query = access.visible_query(
        principal, filter.to_query() if filter is not None else PaymentQuery()
    )
    page = PageRequest.from_args(first=first, after=after)
    async with read_only(context) as session:
        rows = await service.list_payments(session=session, query=query, page=page)
    for row in rows:
        context.loaders.payment_by_id.prime(row.id, row)

    async def total() -> int:
        async with context.db() as session:
            return await service.count_payments(session=session, query=query)

    return build_connection(
        rows, page, node=Payment.from_row, key=lambda r: (r.created_at, r.id), total_count=total
    )


async def resolve_payment_report(
    info: Info[Context, None],
    from_: Annotated[datetime, strawberry.argument(name="from")],
    to: datetime,
    currency: str | None = None,
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
