"""Query root of the auth subgraph."""

from __future__ import annotations

from typing import Annotated

import strawberry

from shared.pagination import After, Connection, First, PageRequest, build_connection
from subgraphs.auth import directory, service
from subgraphs.auth.context import Context
from subgraphs.auth.types import ADMIN, User, UserFilter

Info = strawberry.Info[Context, None]


async def resolve_me(info: Info) -> User:
    context = info.context
    async with context.db() as session:
        row = await service.current_user(session=session, principal=context.require_principal())
    return User.from_row(row)


async def resolve_users(
    info: Info,
    filter: Annotated[
        UserFilter | None, strawberry.argument(description="Conditions the users must meet.")
    ] = None,
    first: First = 20,
    after: After = None,
) -> Connection[User]:
    page = PageRequest.from_args(first=first, after=after)
    query = directory.user_query(
        role=filter.role.value if filter and filter.role else None,
        search=filter.search if filter else None,
        include_deleted=filter.include_deleted if filter else False,
    )
    context = info.context
    async with context.db() as session:
        rows = await directory.list_users(
            session=session, query=query, after=page.after, limit=page.fetch_size
        )

    async def total() -> int:
        async with context.db() as session:
            return await directory.count_users(session=session, query=query)

    return build_connection(
        rows, page, node=User.from_row, key=lambda r: (r.created_at, r.id), total_count=total
    )


@strawberry.type(
    description="Read operations. Each field says who may call it; without an access token only "
    "the fields that say so answer (the rest: UNAUTHENTICATED)."
)
class Query:
    me: User = strawberry.federation.field(
        resolver=resolve_me, authenticated=True, description="The caller's account."
    )
    users: Connection[User] = strawberry.federation.field(
        resolver=resolve_users,
        description="The user directory, newest first (deleted users left out unless asked).",
        requires_scopes=ADMIN,
    )
