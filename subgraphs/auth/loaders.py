"""Per-request DataLoaders (created lazily by the request's `Context`, never shared)."""

from __future__ import annotations

import uuid
from functools import cached_property

from aiodataloader import DataLoader

from shared.context import DbAccess
from subgraphs.auth import mfa_repository, repository
from subgraphs.auth.models import User


class UserByIdLoader(DataLoader[uuid.UUID, User | None]):
    """Users by id in one statement, deleted ones included; None for unknown ids (in key
    order)."""

    def __init__(self, db: DbAccess) -> None:
        super().__init__()
        self._db = db

    async def batch_load_fn(self, keys: list[uuid.UUID]) -> list[User | None]:
        async with self._db() as session:
            users = await repository.users_by_ids(session, user_ids=keys)
        by_id = {user.id: user for user in users}
        return [by_id.get(key) for key in keys]


class MfaEnabledByUserIdLoader(DataLoader[uuid.UUID, bool]):
    """Whether each user has confirmed TOTP, in one statement (in key order)."""

    def __init__(self, db: DbAccess) -> None:
        super().__init__()
        self._db = db

    async def batch_load_fn(self, keys: list[uuid.UUID]) -> list[bool]:
        async with self._db() as session:
            enabled = await mfa_repository.enabled_user_ids(session, user_ids=keys)
        return [key in enabled for key in keys]


class Loaders:
    def __init__(self, db: DbAccess) -> None:
        self._db = db

    @cached_property
    def user_by_id(self) -> UserByIdLoader:
        return UserByIdLoader(self._db)

    @cached_property
    def mfa_enabled_by_user_id(self) -> MfaEnabledByUserIdLoader:
        return MfaEnabledByUserIdLoader(self._db)
