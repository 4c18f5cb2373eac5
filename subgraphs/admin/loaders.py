"""Per-request DataLoaders of the admin subgraph (none at present: the user fields it once
loaded, `lastLoginAt` and `lockedUntil`, are auth's; see docs/auth.md)."""

from __future__ import annotations

from shared.context import DbAccess


class Loaders:
    def __init__(self, db: DbAccess) -> None:
        self._db = db
