"""SQL of the admin subgraph: the user directory (auth's read-only view) and system config."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.pagination import Keyset, keyset_before
from subgraphs.admin.models import SystemConfig, user_directory

U = user_directory.c


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    """One row of `auth.user_directory`."""

    id: uuid.UUID
    email: str
    name: str
    role: str
    email_verified: bool
    created_at: datetime
    last_login_at: datetime | None
    locked_until: datetime | None
    deleted_at: datetime | None


@dataclass(frozen=True, slots=True)
class UserQuery:
    role: str | None = None
    search: str | None = None  # already trimmed; matched case-insensitively as a substring
    include_deleted: bool = False


def escape_like(text: str) -> str:
    """`text` as a literal inside a LIKE pattern whose escape character is backslash."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filtered(statement: Select[Any], query: UserQuery) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = []
    if not query.include_deleted:
        conditions.append(U.deleted_at.is_(None))
    if query.role is not None:
        conditions.append(U.role == query.role)
    if query.search:
        pattern = f"%{escape_like(query.search)}%"
        conditions.append(
            or_(U.email.ilike(pattern, escape="\\"), U.name.ilike(pattern, escape="\\"))
        )
    return statement.where(*conditions) if conditions else statement


def _entry(row: Any) -> DirectoryEntry:
    return DirectoryEntry(**row._mapping)


async def list_users(
    *, session: AsyncSession, query: UserQuery, after: Keyset | None, limit: int
) -> list[DirectoryEntry]:
    statement = _filtered(select(user_directory), query)
    after_cursor = keyset_before(U.created_at, U.id, after)
    if after_cursor is not None:
        statement = statement.where(after_cursor)
    statement = statement.order_by(U.created_at.desc(), U.id.desc()).limit(limit)
    return [_entry(row) for row in await session.execute(statement)]


async def count_users(*, session: AsyncSession, query: UserQuery) -> int:
    statement = _filtered(select(func.count()).select_from(user_directory), query)
    return int(await session.scalar(statement) or 0)


async def get_users(
    *, session: AsyncSession, user_ids: Iterable[uuid.UUID]
) -> list[DirectoryEntry]:
    ids = list(user_ids)
    if not ids:
        return []
    statement = select(user_directory).where(U.id.in_(ids))
    return [_entry(row) for row in await session.execute(statement)]


async def list_config(*, session: AsyncSession) -> Sequence[SystemConfig]:
    return (await session.scalars(select(SystemConfig).order_by(SystemConfig.key))).all()
