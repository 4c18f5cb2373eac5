"""Profile queries."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from shared.errors import Unauthenticated
from shared.scalars import JSON
from subgraphs.profile.context import Context
from subgraphs.profile.preferences import PREFERENCES_SCHEMA
from subgraphs.profile.types import Profile


async def resolve_my_profile(info: Info[Context, None]) -> Profile:
    principal = info.context.require_principal()
    data = await info.context.loaders.profile_by_user_id.load(principal.id)
    if data is None:  # deleted while its token was in flight (revocation refuses it next time)
        raise Unauthenticated()
    return Profile.from_data(data)


def resolve_preferences_schema() -> JSON:
    return JSON(dict(PREFERENCES_SCHEMA))


@strawberry.type
class Query:
    my_profile: Profile = strawberry.federation.field(
        resolver=resolve_my_profile,
        description="The caller's profile (the default, empty one until they save something).",
        authenticated=True,
    )
    preferences_schema: JSON = strawberry.field(
        resolver=resolve_preferences_schema,
        description="The JSON Schema `updatePreferences` validates preferences against.",
    )
