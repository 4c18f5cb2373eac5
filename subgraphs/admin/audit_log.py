"""Reading the audit log (`admin.audit_logs`, filled from every service's events by the audit
consumer): filters and keyset pages, newest first (`created_at DESC, id DESC`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import BadUserInput
from shared.pagination import Keyset, keyset_page
from subgraphs.admin.models import AuditLog

MAX_ACTION = 64


@dataclass(frozen=True, slots=True)
class AuditQuery:
    action: str | None = None
    user_id: uuid.UUID | None = None  # the actor or the resource
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


def audit_query(
    *,
    action: str | None,
    user_id: str | None,
    since: datetime | None,
    until: datetime | None,
) -> AuditQuery:
    action = (action or "").strip() or None
    if action is not None and len(action) > MAX_ACTION:
        raise BadUserInput(f"Actions are at most {MAX_ACTION} characters", field="action")
    parsed: uuid.UUID | None = None
    if user_id is not None:
        try:
            parsed = uuid.UUID(str(user_id))
        except ValueError:
            raise BadUserInput("userId is not a user id", field="userId") from None
    if since is not None and until is not None and since > until:
        raise BadUserInput("`from` must not be after `to`", field="from")
    return AuditQuery(action=action, user_id=parsed, since=since, until=until)


def _filtered(statement: Select[Any], query: AuditQuery) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = []
    if query.action is not None:
        conditions.append(AuditLog.action == query.action)
    if query.user_id is not None:
        conditions.append(
            or_(AuditLog.actor_id == query.user_id, AuditLog.resource_id == str(query.user_id))
        )
    if query.since is not None:
        conditions.append(AuditLog.created_at >= query.since)
    if query.until is not None:
        conditions.append(AuditLog.created_at < query.until)
    return statement.where(*conditions) if conditions else statement


async def list_entries(
    *, session: AsyncSession, query: AuditQuery, after: Keyset | None, limit: int
) -> Sequence[AuditLog]:
    statement = keyset_page(
        _filtered(select(AuditLog), query), AuditLog.created_at, AuditLog.id, after, limit
    )
    return (await session.scalars(statement)).all()


async def count_entries(*, session: AsyncSession, query: AuditQuery) -> int:
    statement = _filtered(select(func.count()).select_from(AuditLog), query)
    return int(await session.scalar(statement) or 0)
