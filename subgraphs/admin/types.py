"""GraphQL types of the admin subgraph (the contract's names)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from shared.scalars import JSON
from shared.scopes import Scope
from subgraphs.admin.context import Context
from subgraphs.admin.models import SystemConfig
from subgraphs.admin.repository import DirectoryEntry

ADMIN = [[Scope.ADMIN.value]]


@strawberry.enum(name="Role")
class Role(Enum):
    """The same enum as auth's (federation merges it)."""

    ADMIN = "ADMIN"
    VENDOR = "VENDOR"
    CUSTOMER = "CUSTOMER"


async def _entry(info: Info[Context, None], user_id: strawberry.ID) -> DirectoryEntry | None:
    try:
        key = uuid.UUID(str(user_id))
    except ValueError:
        return None
    return await info.context.loaders.directory_entry_by_id.load(key)


async def resolve_last_login_at(root: User, info: Info[Context, None]) -> datetime | None:
    entry = await _entry(info, root.id)
    return entry.last_login_at if entry else None


async def resolve_locked_until(root: User, info: Info[Context, None]) -> datetime | None:
    entry = await _entry(info, root.id)
    return entry.locked_until if entry else None


@strawberry.federation.type(keys=["id"])
class User:
    id: strawberry.ID
    last_login_at: datetime | None = strawberry.federation.field(
        resolver=resolve_last_login_at,
        description="When the user last logged in (ADMIN only).",
        requires_scopes=ADMIN,
    )
    locked_until: datetime | None = strawberry.federation.field(
        resolver=resolve_locked_until,
        description="Until when the account is locked after failed logins (ADMIN only).",
        requires_scopes=ADMIN,
    )

    @classmethod
    def ref(cls, user_id: uuid.UUID) -> User:
        return cls(id=strawberry.ID(str(user_id)))

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> User:
        return cls(id=id)


@strawberry.input(description="Narrows the user directory; every given condition must hold.")
class UserFilter:
    role: Role | None = None
    search: str | None = strawberry.field(
        default=None,
        description="Case-insensitive text found in the e-mail address or the name.",
    )
    include_deleted: bool = strawberry.field(
        default=False, description="Also list deleted accounts."
    )


@strawberry.type(description="One system configuration value.")
class ConfigEntry:
    key: str
    value: JSON
    description: str | None
    updated_at: datetime
    updated_by: User | None = strawberry.field(
        description="The ADMIN who last changed the value (none for the seed)."
    )

    @classmethod
    def from_row(cls, row: SystemConfig) -> ConfigEntry:
        return cls(
            key=row.key,
            value=row.value,
            description=row.description,
            updated_at=row.updated_at,
            updated_by=User.ref(row.updated_by) if row.updated_by else None,
        )
