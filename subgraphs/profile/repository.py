"""SQL of the profile subgraph."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.profile.models import Profile


async def get_profiles(
    *, session: AsyncSession, user_ids: Iterable[uuid.UUID]
) -> Sequence[Profile]:
    ids = list(user_ids)
    if not ids:
        return []
    return (await session.scalars(select(Profile).where(Profile.user_id.in_(ids)))).all()


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
