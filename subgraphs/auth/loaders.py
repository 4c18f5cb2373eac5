"""Per-request DataLoaders (created lazily by the request's `Context`, never shared)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import cached_property

from aiodataloader import DataLoader
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.auth import repository
from subgraphs.auth.models import User


class UserByIdLoader(DataLoader[uuid.UUID, User | None]):
    """Users by id in one statement; None for unknown and deleted ids (in key order)."""

    def __init__(self, session: Callable[[], AsyncSession]) -> None:
        super().__init__()
        self._session = session

    async def batch_load_fn(self, keys: list[uuid.UUID]) -> list[User | None]:
        users = await repository.active_users_by_ids(self._session(), user_ids=keys)
        by_id = {user.id: user for user in users}
        return [by_id.get(key) for key in keys]


class Loaders:
    def __init__(self, session: Callable[[], AsyncSession]) -> None:
        self._session = session

    @cached_property
    def user_by_id(self) -> UserByIdLoader:
        return UserByIdLoader(self._session)
