"""Per-request DataLoaders of the profile subgraph."""

from __future__ import annotations

import uuid

from aiodataloader import DataLoader

from shared.context import DbAccess
from subgraphs.profile import repository as repo
from subgraphs.profile.service import ProfileData, profile_or_default


class ProfileByUserIdLoader(DataLoader[uuid.UUID, ProfileData | None]):
    """Each user's profile, or the default profile when none is stored; None for an account
    auth marks deleted (one statement for any number of ids)."""

    def __init__(self, db: DbAccess) -> None:
        super().__init__()
        self._db = db

    async def batch_load_fn(self, keys: list[uuid.UUID]) -> list[ProfileData | None]:
        async with self._db() as session:
            stored = await repo.get_profiles(session=session, user_ids=keys)
        return [
            None if key in stored.deleted else profile_or_default(key, stored.rows.get(key))
            for key in keys
        ]


class Loaders:
    def __init__(self, db: DbAccess) -> None:
        self.profile_by_user_id = ProfileByUserIdLoader(db)
