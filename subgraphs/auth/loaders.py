"""Per-request DataLoaders (created lazily by the request's `Context`, never shared)."""

from __future__ import annotations

import uuid
from functools import cached_property

from aiodataloader import DataLoader

from shared.context import DbAccess
from subgraphs.auth import repository
from subgraphs.auth.models import User


class UserByIdLoader(DataLoader[uuid.UUID, User | None]):
    """Users by id in one statement; None for unknown and deleted ids (in key order)."""

    def __init__(self, db: DbAccess) -> None:
        super().__init__()
        self._db = db

    async def batch_load_fn(self, keys: list[uuid.UUID]) -> list[User | None]:
        async with self._db() as session:
            users = await repository.active_users_by_ids(session, user_ids=keys)
        by_id = {user.id: user for user in users}
        return [by_id.get(key) for key in keys]


class Loaders:
    def __init__(self, db: DbAccess) -> None:
        self._db = db

    @cached_property
    def user_by_id(self) -> UserByIdLoader:
        return UserByIdLoader(self._db)
