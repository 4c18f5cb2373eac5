"""Profile mutations: a user changes only their own profile."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from shared.scalars import JSON
from shared.scopes import Scope
from subgraphs.profile import service
from subgraphs.profile.context import Context
from subgraphs.profile.types import Profile, UpdateProfileInput

WRITE = [[Scope.PROFILE_WRITE.value]]


async def update_profile(info: Info[Context, None], input: UpdateProfileInput) -> Profile:
    principal = info.context.require_principal()
    changes = input.to_changes()
    async with info.context.db() as session:
        data = await service.update_profile(session=session, user_id=principal.id, changes=changes)
    return Profile.from_data(data)


async def update_preferences(info: Info[Context, None], preferences: JSON) -> Profile:
    principal = info.context.require_principal()
    async with info.context.db() as session:
        data = await service.update_preferences(
            session=session, user_id=principal.id, changes=preferences
        )
    return Profile.from_data(data)


@strawberry.type
class Mutation:
    update_profile: Profile = strawberry.federation.mutation(
        resolver=update_profile,
        description="Change phone (E.164), address or bio; validated, saved atomically.",
        authenticated=True,
        requires_scopes=WRITE,
    )
    update_preferences: Profile = strawberry.federation.mutation(
        resolver=update_preferences,
        description=(
            "Merge preferences (null removes a key); the result must match `preferencesSchema`, "
            "unknown keys are BAD_USER_INPUT."
        ),
        authenticated=True,
        requires_scopes=WRITE,
    )
