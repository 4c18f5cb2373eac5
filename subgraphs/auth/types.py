"""GraphQL types of the auth subgraph (names are the contract's)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING

import strawberry

from shared.scopes import Role as DomainRole
from subgraphs.auth.models import User as UserRow

if TYPE_CHECKING:
    from subgraphs.auth.context import Context
    from subgraphs.auth.sessions import IssuedSession


@strawberry.enum(name="Role")
class Role(Enum):
    ADMIN = "ADMIN"
    VENDOR = "VENDOR"
    CUSTOMER = "CUSTOMER"

    def to_domain(self) -> DomainRole:
        return DomainRole(self.value)


@strawberry.federation.type(keys=["id"], name="User")
class User:
    id: strawberry.ID
    email: str
    name: str
    role: Role
    email_verified: bool
    created_at: datetime

    @classmethod
    def from_row(cls, row: UserRow) -> User:
        return cls(
            id=strawberry.ID(str(row.id)),
            email=row.email,
            name=row.name,
            role=Role(row.role),
            email_verified=row.email_verified,
            created_at=row.created_at,
        )

    @classmethod
    async def resolve_reference(
        cls, info: strawberry.Info[Context, None], id: strawberry.ID
    ) -> User | None:
        try:
            user_id = uuid.UUID(str(id))
        except ValueError:
            return None
        row = await info.context.loaders.user_by_id.load(user_id)
        return None if row is None else cls.from_row(row)


@strawberry.type
class AuthPayload:
    access_token: str
    refresh_token: str
    expires_in: int = strawberry.field(description="Seconds until the access token expires.")
    user: User

    @classmethod
    def from_session(cls, issued: IssuedSession) -> AuthPayload:
        return cls(
            access_token=issued.access_token,
            refresh_token=issued.refresh_token,
            expires_in=issued.expires_in,
            user=User.from_row(issued.user),
        )


@strawberry.input
class RegisterInput:
    email: str
    password: str
    name: str
    role: Role | None = Role.CUSTOMER


@strawberry.input
class LoginInput:
    email: str
    password: str
