"""Per-request DataLoaders of the profile subgraph."""

from __future__ import annotations

import uuid

from aiodataloader import DataLoader

from shared.context import DbAccess
from subgraphs.profile import repository as repo
from subgraphs.profile.service import ProfileData, profile_or_default


class ProfileByUserIdLoader(DataLoader[uuid.UUID, ProfileData]):
    """Each user's profile, or the default profile when none is stored."""

    def __init__(self, db: DbAccess) -> None:
        super().__init__()
        self._db = db

    async def batch_load_fn(self, keys: list[uuid.UUID]) -> list[ProfileData]:
        async with self._db() as session:
            rows = await repo.get_profiles(session=session, user_ids=keys)
        by_id = {row.user_id: row for row in rows}
        return [profile_or_default(key, by_id.get(key)) for key in keys]


class Loaders:
    def __init__(self, db: DbAccess) -> None:
        self.profile_by_user_id = ProfileByUserIdLoader(db)
