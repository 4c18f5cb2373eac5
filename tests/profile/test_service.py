"""Profile storage rules against real PostgreSQL (rolled back after each test)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import BadUserInput
from subgraphs.profile import repository as repo
from subgraphs.profile import service
from subgraphs.profile.models import Profile


async def test_update_creates_then_changes_only_given_fields(db_session: AsyncSession) -> None:
    user_id = uuid.uuid4()
    first = await service.update_profile(
        session=db_session,
        user_id=user_id,
        changes=service.validate_changes(phone="+91 98765 43210", bio="Hi", given={"phone", "bio"}),
    )
    assert (first.phone, first.address, first.bio) == ("+919876543210", None, "Hi")
    second = await service.update_profile(
        session=db_session,
        user_id=user_id,
        changes=service.validate_changes(address=" 1 Main St ", bio="", given={"address", "bio"}),
    )
    assert (second.phone, second.address, second.bio) == ("+919876543210", "1 Main St", None)
    count = await db_session.scalar(
        select(func.count()).select_from(Profile).where(Profile.user_id == user_id)
    )
    assert count == 1


async def test_preferences_merge_under_a_row_lock(db_session: AsyncSession) -> None:
    user_id = uuid.uuid4()
    data = await service.update_preferences(
        session=db_session, user_id=user_id, changes={"theme": "dark"}
    )
    assert data.preferences == {"theme": "dark"}
    assert data.phone is None
    data = await service.update_preferences(
        session=db_session, user_id=user_id, changes={"currency": "USD"}
    )
    assert data.preferences == {"theme": "dark", "currency": "USD"}
    with pytest.raises(BadUserInput):
        await service.update_preferences(
            session=db_session, user_id=user_id, changes={"shoeSize": 44}
        )


async def test_default_profile_is_not_stored(db_session: AsyncSession) -> None:
    user_id = uuid.uuid4()
    nothing = repo.StoredProfiles(rows={}, deleted=frozenset())
    assert await repo.get_profiles(session=db_session, user_ids=[user_id]) == nothing
    assert await repo.get_profiles(session=db_session, user_ids=[]) == nothing
    default = service.profile_or_default(user_id, None)
    assert (default.phone, default.address, default.bio, default.avatar_key) == (None,) * 4
    assert default.preferences == {}
