"""Admin queries (ADMIN only, declared per field)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from shared.pagination import Connection, PageRequest, build_connection
from subgraphs.admin import service
from subgraphs.admin.context import Context
from subgraphs.admin.repository import DirectoryEntry
from subgraphs.admin.types import ADMIN, ConfigEntry, User, UserFilter


async def resolve_users(
    info: Info[Context, None],
    filter: UserFilter | None = None,
    first: int | None = 20,
    after: str | None = None,
) -> Connection[User]:
    page = PageRequest.from_args(first=first, after=after)
    query = service.user_query(
        role=filter.role.value if filter and filter.role else None,
        search=filter.search if filter else None,
        include_deleted=filter.include_deleted if filter else False,
    )
    context = info.context
    async with context.db() as session:
        rows = await service.list_users(session=session, query=query, page=page)
    for row in rows:
        context.loaders.directory_entry_by_id.prime(row.id, row)

    async def total() -> int:
        async with context.db() as session:
            return await service.count_users(session=session, query=query)

    def node(row: DirectoryEntry) -> User:
        return User.ref(row.id)

    return build_connection(
        rows, page, node=node, key=lambda r: (r.created_at, r.id), total_count=total
    )


async def resolve_system_config(info: Info[Context, None]) -> list[ConfigEntry]:
    async with info.context.db() as session:
        rows = await service.system_config(session=session)
    return [ConfigEntry.from_row(row) for row in rows]


@strawberry.type
class Query:
    users: Connection[User] = strawberry.federation.field(
        resolver=resolve_users,
        description="The user directory, newest first (deleted users left out unless asked).",
        requires_scopes=ADMIN,
    )
    system_config: list[ConfigEntry] = strawberry.federation.field(
        resolver=resolve_system_config,
        description="Every system configuration value, by key.",
        requires_scopes=ADMIN,
    )
