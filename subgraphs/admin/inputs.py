"""GraphQL inputs of the admin subgraph (the contract's names)."""

from __future__ import annotations

from datetime import datetime

import strawberry


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
