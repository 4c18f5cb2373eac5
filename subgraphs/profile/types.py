"""GraphQL types of the profile subgraph (the contract's names)."""

from __future__ import annotations

import uuid

import strawberry
from strawberry.types import Info

from shared.scalars import JSON
from subgraphs.profile.context import Context
from subgraphs.profile.service import ProfileChanges, ProfileData, validate_changes

OWNER_OR_ADMIN = [["owner_or_admin"]]
AVATAR_PATH = "/avatars/"


@strawberry.type(description="A user's profile. Phone and address: the user or ADMIN only.")
class Profile:
    phone: str | None = strawberry.federation.field(
        policy=OWNER_OR_ADMIN,
        description="E.164 phone number, e.g. +919876543210 (the user or ADMIN only).",
    )
    address: str | None = strawberry.federation.field(
        policy=OWNER_OR_ADMIN,
        description="Postal address, free text up to 500 characters (the user or ADMIN only).",
    )
    bio: str | None = strawberry.field(
        description="Free text about the user, up to 1000 characters (visible to whoever sees "
        "the profile)."
    )
    avatar_url: str | None = strawberry.field(
        description="The avatar image (WebP, at most 512x512), a path on the GraphQL "
        "endpoint's origin, `/avatars/<key>.webp`: resolve it against the endpoint's URL (e.g. "
        "`new URL(avatarUrl, graphqlUrl)`). A new upload gets a new path; null without avatar."
    )
    preferences: JSON = strawberry.field(
        description="Validated against the schema `preferencesSchema` returns."
    )
    # Whose profile this is: the owner_or_admin policy compares it with the caller.
    user_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_data(cls, data: ProfileData) -> Profile:
        return cls(
            phone=data.phone,
            address=data.address,
            bio=data.bio,
            avatar_url=f"{AVATAR_PATH}{data.avatar_key}" if data.avatar_key else None,
            preferences=JSON(data.preferences),
            user_id=data.user_id,
        )


async def resolve_profile(root: User, info: Info[Context, None]) -> Profile | None:
    try:
        user_id = uuid.UUID(str(root.id))
    except ValueError:
        return None
    data = await info.context.loaders.profile_by_user_id.load(user_id)
    return None if data is None else Profile.from_data(data)


@strawberry.federation.type(keys=["id"])
class User:
    id: strawberry.ID
    profile: Profile | None = strawberry.federation.field(
        resolver=resolve_profile,
        description="The user's profile (the default, empty one until they save something; "
        "null for a deleted account).",
        authenticated=True,
    )

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> User:
        return cls(id=id)


@strawberry.input(
    description=(
        "Fields to change; a field left out stays as it is, an empty string or null clears it. "
        "phone: E.164 (+ country code and number); address <= 500 and bio <= 1000 characters."
    )
)
class UpdateProfileInput:
    phone: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="E.164: + country code and number, e.g. +919876543210 (BAD_USER_INPUT, "
        "field `phone`, otherwise).",
    )
    address: str | None = strawberry.field(
        default=strawberry.UNSET, description="Postal address, at most 500 characters."
    )
    bio: str | None = strawberry.field(
        default=strawberry.UNSET, description="About the user, at most 1000 characters."
    )

    def to_changes(self) -> ProfileChanges:
        given = {
            name
            for name in ("phone", "address", "bio")
            if getattr(self, name) is not strawberry.UNSET
        }
        return validate_changes(
            phone=self.phone if "phone" in given else None,
            address=self.address if "address" in given else None,
            bio=self.bio if "bio" in given else None,
            given=given,
        )
