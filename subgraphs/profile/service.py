"""Profile rules: reading a profile (or the default one), updating fields and preferences.

Who may read phone and address is declared on those fields (`@policy(owner_or_admin)`); a user
only ever writes their own profile (the mutations take no user id).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.profile import repository as repo
from subgraphs.profile.models import Profile
from subgraphs.profile.preferences import merge_preferences
from subgraphs.profile.validation import MAX_ADDRESS, MAX_BIO, clean_text, normalize_phone


@dataclass(frozen=True, slots=True)
class ProfileData:
    """A stored profile, or the default one of a user who has not saved anything yet."""

    user_id: uuid.UUID
    phone: str | None = None
    address: str | None = None
    bio: str | None = None
    avatar_key: str | None = None
    preferences: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: Profile) -> ProfileData:
        return cls(
            user_id=row.user_id,
            phone=row.phone,
            address=row.address,
            bio=row.bio,
            avatar_key=row.avatar_key,
            preferences=dict(row.preferences or {}),
        )


def profile_or_default(user_id: uuid.UUID, row: Profile | None) -> ProfileData:
    return ProfileData.from_row(row) if row is not None else ProfileData(user_id=user_id)


@dataclass(frozen=True, slots=True)
class ProfileChanges:
    """The fields a client sent (absent ones stay as they are; empty text clears a field)."""

    values: dict[str, str | None]


def validate_changes(
    *, phone: Any = None, address: Any = None, bio: Any = None, given: set[str]
) -> ProfileChanges:
    values: dict[str, str | None] = {}
    if "phone" in given:
        values["phone"] = normalize_phone(phone)
    if "address" in given:
        values["address"] = clean_text(address, field="address", limit=MAX_ADDRESS)
    if "bio" in given:
        values["bio"] = clean_text(bio, field="bio", limit=MAX_BIO)
    return ProfileChanges(values)


async def update_profile(
    *,
    session: AsyncSession,
    user_id: uuid.UUID,
    changes: ProfileChanges,
    now: datetime | None = None,
) -> ProfileData:
    row = await repo.upsert_profile(
        session=session, user_id=user_id, values=changes.values, now=now or datetime.now(UTC)
    )
    data = ProfileData.from_row(row)
    await session.commit()
    return data


async def update_preferences(
    *,
    session: AsyncSession,
    user_id: uuid.UUID,
    changes: Any,
    now: datetime | None = None,
) -> ProfileData:
    now = now or datetime.now(UTC)
    row = await repo.lock_profile(session=session, user_id=user_id, now=now)
    row.preferences = merge_preferences(row.preferences or {}, changes)
    row.updated_at = now
    await session.flush()
    data = ProfileData.from_row(row)
    await session.commit()
    return data
