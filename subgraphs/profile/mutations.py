"""Profile mutations: a user changes only their own profile."""

from __future__ import annotations

from typing import Annotated

import strawberry
from starlette.datastructures import UploadFile
from strawberry.file_uploads import Upload
from strawberry.types import Info

from shared.errors import BadUserInput
from shared.scalars import JSON
from shared.scopes import Scope
from subgraphs.profile import avatars, service
from subgraphs.profile.avatar_store import AvatarStore
from subgraphs.profile.context import Context
from subgraphs.profile.types import Profile, UpdateProfileInput

WRITE = [[Scope.PROFILE_WRITE.value]]


async def update_profile(
    info: Info[Context, None],
    input: Annotated[UpdateProfileInput, strawberry.argument(description="What to change.")],
) -> Profile:
    principal = info.context.require_principal()
    changes = input.to_changes()
    async with info.context.db() as session:
        data = await service.update_profile(session=session, user_id=principal.id, changes=changes)
    return Profile.from_data(data)


async def update_preferences(
    info: Info[Context, None],
    preferences: Annotated[
        JSON,
        strawberry.argument(
            description="A JSON object of keys to set (null removes a key), e.g. "
            '{"theme": "dark"}; merged into the stored preferences.'
        ),
    ],
) -> Profile:
    principal = info.context.require_principal()
    async with info.context.db() as session:
        data = await service.update_preferences(
            session=session, user_id=principal.id, changes=preferences
        )
    return Profile.from_data(data)


def avatar_store(info: Info[Context, None]) -> AvatarStore:
    return info.context.avatar_store


async def upload_avatar(
    info: Info[Context, None],
    file: Annotated[
        Upload,
        strawberry.argument(
            description="The image file, sent as a multipart request part (GraphQL multipart "
            "request spec; the router wants an `apollo-require-preflight` or `x-graphql-csrf` "
            "header)."
        ),
    ],
) -> Profile:
    principal = info.context.require_principal()
    if not isinstance(file, UploadFile):
        raise BadUserInput("Send the avatar as a file (GraphQL multipart request)", field="file")
    async with info.context.db() as session:
        data = await avatars.upload_avatar(
            session=session,
            store=avatar_store(info),
            user_id=principal.id,
            upload=file,
            redis=info.context.redis,
            limit=info.context.deps.upload_limit,
        )
    return Profile.from_data(data)


async def delete_avatar(info: Info[Context, None]) -> Profile:
    principal = info.context.require_principal()
    async with info.context.db() as session:
        data = await avatars.delete_avatar(
            session=session, store=avatar_store(info), user_id=principal.id
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
    upload_avatar: Profile = strawberry.federation.mutation(
        resolver=upload_avatar,
        description=(
            "Replace the caller's avatar (GraphQL multipart request). PNG, JPEG or WebP, decided "
            "by content; at most 2 MiB, 4096x4096 and 16 megapixels; re-encoded to a WebP of at "
            "most 512x512 with no metadata. Errors: BAD_USER_INPUT, field `file`; RATE_LIMITED "
            "(`retryAfter`) beyond the per-user upload limit."
        ),
        authenticated=True,
        requires_scopes=WRITE,
    )
    delete_avatar: Profile = strawberry.federation.mutation(
        resolver=delete_avatar,
        description="Remove the caller's avatar (nothing happens when there is none).",
        authenticated=True,
        requires_scopes=WRITE,
    )
