"""The user directory an ADMIN lists (`users`): filters and keyset pages over `auth.users`,
newest first (`created_at DESC, id DESC`). Deleted accounts are left out unless asked for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import BadUserInput
from shared.pagination import Keyset, keyset_page
from subgraphs.auth.models import User

MAX_SEARCH = 100


@dataclass(frozen=True, slots=True)
class UserQuery:
    role: str | None = None
    search: str | None = None  # already trimmed; matched case-insensitively as a substring
    include_deleted: bool = False


def user_query(*, role: str | None, search: str | None, include_deleted: bool = False) -> UserQuery:
    text = (search or "").strip()
    if len(text) > MAX_SEARCH:
        raise BadUserInput(f"Search text is limited to {MAX_SEARCH} characters", field="search")
    return UserQuery(role=role, search=text or None, include_deleted=include_deleted)


def escape_like(text: str) -> str:
    """`text` as a literal inside a LIKE pattern whose escape character is backslash."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filtered(statement: Select[Any], query: UserQuery) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = []
    if not query.include_deleted:
        conditions.append(User.deleted_at.is_(None))
    if query.role is not None:
        conditions.append(User.role == query.role)
    if query.search:
        pattern = f"%{escape_like(query.search)}%"
        conditions.append(
            or_(User.email.ilike(pattern, escape="\\"), User.name.ilike(pattern, escape="\\"))
        )
    return statement.where(*conditions) if conditions else statement


async def list_users(
    *, session: AsyncSession, query: UserQuery, after: Keyset | None, limit: int
) -> Sequence[User]:
    statement = keyset_page(_filtered(select(User), query), User.created_at, User.id, after, limit)
    return (await session.scalars(statement)).all()


async def count_users(*, session: AsyncSession, query: UserQuery) -> int:
    statement = _filtered(select(func.count()).select_from(User), query)
    return int(await session.scalar(statement) or 0)
