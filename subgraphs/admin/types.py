"""GraphQL types of the admin subgraph (the contract's names)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum

import strawberry

from shared.enum_docs import ROLE_DESCRIPTION, ROLE_VALUES, described_enum
from shared.scalars import JSON
from shared.scopes import Scope
from subgraphs.admin.models import SystemConfig

ADMIN = [[Scope.ADMIN.value]]


@described_enum(name="Role", description=ROLE_DESCRIPTION, values=ROLE_VALUES)
class Role(Enum):
    """The same enum as auth's (federation merges it)."""

    ADMIN = "ADMIN"
    VENDOR = "VENDOR"
    CUSTOMER = "CUSTOMER"


# A reference to an account (`AuditLog.actor`, `ConfigEntry.updatedBy`): auth owns accounts and
# the router fetches their fields from it.
@strawberry.federation.type(keys=["id"])
class User:
    id: strawberry.ID

    @classmethod
    def ref(cls, user_id: uuid.UUID) -> User:
        return cls(id=strawberry.ID(str(user_id)))

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> User:
        return cls(id=id)


@strawberry.type(description="One system configuration value.")
class ConfigEntry:
    key: str = strawberry.field(description="Dotted name of the setting, e.g. `payments.fees`.")
    value: JSON = strawberry.field(description="The current value (its shape depends on the key).")
    description: str | None = strawberry.field(description="What the setting controls.")
    updated_at: datetime = strawberry.field(description="When the value last changed.")
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
