"""Payments queries: resolvers read arguments, call the service and map the result."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from strawberry.types import Info

from shared.money import to_major
from shared.pagination import After, Connection, First, PageRequest, build_connection
from shared.scopes import Scope
from subgraphs.payments import access, service
from subgraphs.payments.context import Context
from subgraphs.payments.inputs import PaymentFilter
from subgraphs.payments.ledger.balances import vendor_balances
from subgraphs.payments.ledger.reports import financial_report
from subgraphs.payments.ledger.types import (
    Balance,
    FinancialReportRow,
    LedgerVerification,
    ReportPeriod,
)
from subgraphs.payments.ledger.verify import verify_ledger
from subgraphs.payments.repository import PaymentQuery
from subgraphs.payments.types import READ, Payment, PaymentReport

REPORT = [[Scope.PAYMENTS_REPORT.value]]
ADMIN = [[Scope.ADMIN.value]]


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


@asynccontextmanager
async def read_only(context: Context) -> AsyncIterator[AsyncEngine | AsyncSession]:
    """The engine, for a read that is one statement: the repository runs it on a pooled
    connection outside a transaction (`shared.db.read_all`: no BEGIN and ROLLBACK, two round
    trips; no ORM session, nor SQLAlchemy's per-execution work: docs/performance.md). When the
    sessionmaker is bound to something else than an engine (a test's connection), the
    request's session."""
    bind = context.sessionmaker.kw.get("bind")
    if not isinstance(bind, AsyncEngine):
        async with context.db() as session:
            yield session
        return
    yield bind


async def resolve_payments(
    info: Info[Context, None],
    filter: Annotated[
        PaymentFilter | None,
        strawberry.argument(description="Conditions the payments must meet."),
    ] = None,
    first: First = 20,
    after: After = None,
) -> Connection[Payment]:
    """A Relay page of the visible payments: one statement for the page, read outside a
    transaction (`read_only`), and one for `totalCount` if selected."""
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


async def resolve_my_balances(info: Info[Context, None]) -> list[Balance]:
    principal = info.context.require_principal()
    async with info.context.db() as session:
        rows = await vendor_balances(
            session=session,
            vendor_id=principal.id,
            now=datetime.now(UTC),
            delays=info.context.deps.settlement,
        )
    return [
        Balance(
            currency=r.currency,
            pending=to_major(r.pending_minor, r.currency),
            available=to_major(r.available_minor, r.currency),
        )
        for r in rows
    ]


async def resolve_verify_ledger(info: Info[Context, None]) -> LedgerVerification:
    info.context.require_principal()
    result = await verify_ledger(db=info.context.new_session)
    return LedgerVerification(
        ok=result.ok,
        checked_entries=result.checked_entries,
        first_broken_entry_id=strawberry.ID(str(result.first_broken_entry_id))
        if result.first_broken_entry_id
        else None,
    )


async def resolve_financial_report(
    info: Info[Context, None],
    period: Annotated[
        ReportPeriod, strawberry.argument(description="The length of one row: DAY, WEEK, MONTH.")
    ],
    from_: Annotated[
        datetime,
        strawberry.argument(name="from", description="Start (inclusive), with a UTC offset."),
    ],
    to: Annotated[datetime, strawberry.argument(description="End (exclusive).")],
) -> list[FinancialReportRow]:
    info.context.require_principal()
    async with info.context.db() as session:
        rows = await financial_report(
            session=session, period=period.name.lower(), start=from_, end=to
        )
    return [
        FinancialReportRow(
            period_start=r.period_start,
            currency=r.currency,
            captured=to_major(r.captured_minor, r.currency),
            refunded=to_major(r.refunded_minor, r.currency),
            platform_fees=to_major(r.platform_fees_minor, r.currency),
            psp_fees=to_major(r.psp_fees_minor, r.currency),
            payable_to_vendors=to_major(r.payable_minor, r.currency),
        )
        for r in rows
    ]


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
    my_balances: list[Balance] = strawberry.federation.field(
        resolver=resolve_my_balances,
        description=(
            "VENDOR: what the platform owes the caller per currency, pending (within the "
            "settlement delay) and available, derived from the ledger."
        ),
        authenticated=True,
        requires_scopes=REPORT,
    )
    verify_ledger: LedgerVerification = strawberry.federation.field(
        resolver=resolve_verify_ledger,
        description=(
            "ADMIN: recompute the ledger's hash chain (in batches) and name the first row whose "
            "content or link no longer matches."
        ),
        authenticated=True,
        requires_scopes=ADMIN,
    )
    financial_report: list[FinancialReportRow] = strawberry.federation.field(
        resolver=resolve_financial_report,
        description=(
            "ADMIN: captured, refunded, platform and PSP fees and payable to vendors per period "
            "and currency, from the ledger rows written in [from, to)."
        ),
        authenticated=True,
        requires_scopes=ADMIN,
    )
