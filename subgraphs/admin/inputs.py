"""GraphQL inputs of the admin subgraph (the contract's names)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from subgraphs.admin.types import Role


@strawberry.input(description="A new account. The password follows auth's policy.")
class CreateUserInput:
    email: str
    name: str
    role: Role = Role.CUSTOMER
    password: str = strawberry.field(
        description="The initial password (auth's policy: at least 12 characters, mixed)."
    )


@strawberry.input(description="Fields to change; omitted fields stay as they are.")
class UpdateUserInput:
    name: str | None = None
    email: str | None = strawberry.field(
        default=None, description="A new address is unverified unless emailVerified says so."
    )
    email_verified: bool | None = None


@strawberry.input(description="Narrows the audit log; every given condition must hold.")
class AuditLogFilter:
    action: str | None = strawberry.field(
        default=None, description="An event name, e.g. `auth:user:logged_in`."
    )
    user_id: strawberry.ID | None = strawberry.field(
        default=None, description="Entries this user did (actor) or that concern them (resource)."
    )
    from_: datetime | None = strawberry.field(
        default=None, name="from", description="Inclusive lower bound on createdAt."
    )
    to: datetime | None = strawberry.field(
        default=None, description="Exclusive upper bound on createdAt."
    )
