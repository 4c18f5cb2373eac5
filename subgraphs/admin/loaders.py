"""Per-request DataLoaders of the admin subgraph."""

from __future__ import annotations

import uuid

from aiodataloader import DataLoader

from shared.context import DbAccess
from subgraphs.admin import repository as repo
from subgraphs.admin.repository import DirectoryEntry


class DirectoryEntryByIdLoader(DataLoader[uuid.UUID, DirectoryEntry | None]):
    """Rows of `auth.user_directory` by user id (deleted users included: their history stays)."""

    def __init__(self, db: DbAccess) -> None:
        super().__init__()
        self._db = db

    async def batch_load_fn(self, keys: list[uuid.UUID]) -> list[DirectoryEntry | None]:
        async with self._db() as session:
            rows = await repo.get_users(session=session, user_ids=keys)
        by_id = {row.id: row for row in rows}
        return [by_id.get(key) for key in keys]


class Loaders:
    def __init__(self, db: DbAccess) -> None:
        self.directory_entry_by_id = DirectoryEntryByIdLoader(db)
