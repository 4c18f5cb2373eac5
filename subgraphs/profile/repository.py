"""SQL of the profile subgraph."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY, UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.profile.models import Profile, user_directory


@dataclass(frozen=True, slots=True)
class StoredProfiles:
    """The stored profiles of some users, and which of those users' accounts are deleted."""

    rows: Mapping[uuid.UUID, Profile]
    deleted: frozenset[uuid.UUID]


async def get_profiles(*, session: AsyncSession, user_ids: Iterable[uuid.UUID]) -> StoredProfiles:
    """One statement: each id with its stored profile (if any) and whether auth's directory
    marks the account deleted (an id auth does not know counts as not deleted)."""
    ids = list(dict.fromkeys(user_ids))
    if not ids:
        return StoredProfiles(rows={}, deleted=frozenset())
    wanted = (
        func.unnest(bindparam("user_ids", ids, type_=ARRAY(UUID(as_uuid=True))))
        .table_valued("user_id")
        .render_derived(name="wanted")
    )
    result = await session.execute(
        select(wanted.c.user_id, Profile, user_directory.c.deleted_at)
        .select_from(wanted)
        .outerjoin(Profile, Profile.user_id == wanted.c.user_id)
        .outerjoin(user_directory, user_directory.c.id == wanted.c.user_id)
    )
    rows: dict[uuid.UUID, Profile] = {}
    deleted: set[uuid.UUID] = set()
    for user_id, profile, deleted_at in result:
        if profile is not None:
            rows[user_id] = profile
        if deleted_at is not None:
            deleted.add(user_id)
    return StoredProfiles(rows=rows, deleted=frozenset(deleted))


async def upsert_profile(
    *, session: AsyncSession, user_id: uuid.UUID, values: Mapping[str, Any], now: datetime
) -> Profile:
    """Create the profile with `values`, or set `values` on the existing one; one statement."""
    statement = (
        insert(Profile)
        .values(user_id=user_id, created_at=now, updated_at=now, **values)
        .on_conflict_do_update(index_elements=[Profile.user_id], set_={**values, "updated_at": now})
        .returning(Profile)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).one()


async def lock_profile(*, session: AsyncSession, user_id: uuid.UUID, now: datetime) -> Profile:
    """The user's profile, created empty if missing, locked until the transaction ends."""
    await session.execute(
        insert(Profile)
        .values(user_id=user_id, created_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=[Profile.user_id])
    )
    statement = (
        select(Profile)
        .where(Profile.user_id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).one()


async def find_profile_for_update(*, session: AsyncSession, user_id: uuid.UUID) -> Profile | None:
    """The user's stored profile (None if none), locked until the transaction ends."""
    statement = (
        select(Profile)
        .where(Profile.user_id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).one_or_none()
