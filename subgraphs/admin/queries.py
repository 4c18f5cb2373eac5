"""Admin queries (ADMIN only, declared per field). (The user directory, `users`, is auth's.)"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from shared.pagination import After, Connection, First, PageRequest, build_connection
from subgraphs.admin import analytics, audit_log, service
from subgraphs.admin.context import Context
from subgraphs.admin.inputs import AuditLogFilter
from subgraphs.admin.models import AuditLog as AuditLogRow
from subgraphs.admin.reports import Analytics, AuditLog
from subgraphs.admin.types import ADMIN, ConfigEntry


async def resolve_system_config(info: Info[Context, None]) -> list[ConfigEntry]:
    async with info.context.db() as session:
        rows = await service.system_config(session=session)
    return [ConfigEntry.from_row(row) for row in rows]


async def resolve_audit_logs(
    info: Info[Context, None],
    filter: Annotated[
        AuditLogFilter | None,
        strawberry.argument(description="Conditions the entries must meet."),
    ] = None,
    first: First = 50,
    after: After = None,
) -> Connection[AuditLog]:
    page = PageRequest.from_args(first=first, after=after, default=50)
    query = audit_log.audit_query(
        action=filter.action if filter else None,
        user_id=filter.user_id if filter else None,
        since=filter.from_ if filter else None,
        until=filter.to if filter else None,
    )
    context = info.context
    async with context.db() as session:
        rows = await audit_log.list_entries(
            session=session, query=query, after=page.after, limit=page.fetch_size
        )

    async def total() -> int:
        async with context.db() as session:
            return await audit_log.count_entries(session=session, query=query)

    def key(row: AuditLogRow) -> tuple[datetime, uuid.UUID]:
        return (row.created_at, row.id)

    return build_connection(rows, page, node=AuditLog.from_row, key=key, total_count=total)


async def resolve_analytics(
    info: Info[Context, None],
    from_: Annotated[
        datetime, strawberry.argument(name="from", description="Start of the range (inclusive).")
    ],
    to: Annotated[datetime, strawberry.argument(description="End of the range (exclusive).")],
) -> Analytics:
    async with info.context.db() as session:
        report = await analytics.report(session=session, since=from_, until=to)
    return Analytics.from_report(report)


@strawberry.type
class Query:
    system_config: list[ConfigEntry] = strawberry.federation.field(
        resolver=resolve_system_config,
        description="Every system configuration value, by key.",
        requires_scopes=ADMIN,
    )
    audit_logs: Connection[AuditLog] = strawberry.federation.field(
        resolver=resolve_audit_logs,
        description="The audit log, newest first (createdAt, id).",
        requires_scopes=ADMIN,
    )
    analytics: Analytics = strawberry.federation.field(
        resolver=resolve_analytics,
        description="Users by role, payments by status and settled volume by currency and day "
        "over [from, to) (at most 366 days).",
        requires_scopes=ADMIN,
    )
