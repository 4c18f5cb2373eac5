"""Query root of the auth subgraph."""

from __future__ import annotations

import strawberry

from subgraphs.auth import service
from subgraphs.auth.context import Context
from subgraphs.auth.types import User


async def resolve_me(info: strawberry.Info[Context, None]) -> User:
    context = info.context
    async with context.db() as session:
        row = await service.current_user(session=session, principal=context.require_principal())
    return User.from_row(row)


@strawberry.type
class Query:
    me: User = strawberry.federation.field(
        resolver=resolve_me, authenticated=True, description="The caller's account."
    )
