"""Admin rules: listing the user directory and reading system configuration.

Every operation here is ADMIN only; that is declared on the fields (`@requiresScopes(admin)`)
and enforced by shared.authz, not re-checked here.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import BadUserInput
from shared.pagination import PageRequest
from subgraphs.admin import repository as repo
from subgraphs.admin.models import SystemConfig
from subgraphs.admin.repository import DirectoryEntry, UserQuery

MAX_SEARCH = 100


def user_query(*, role: str | None, search: str | None, include_deleted: bool = False) -> UserQuery:
    text = (search or "").strip()
    if len(text) > MAX_SEARCH:
        raise BadUserInput(f"Search text is limited to {MAX_SEARCH} characters", field="search")
    return UserQuery(role=role, search=text or None, include_deleted=include_deleted)


async def list_users(
    *, session: AsyncSession, query: UserQuery, page: PageRequest
) -> list[DirectoryEntry]:
    return await repo.list_users(
        session=session, query=query, after=page.after, limit=page.fetch_size
    )


async def count_users(*, session: AsyncSession, query: UserQuery) -> int:
    return await repo.count_users(session=session, query=query)


async def system_config(*, session: AsyncSession) -> Sequence[SystemConfig]:
    return await repo.list_config(session=session)
