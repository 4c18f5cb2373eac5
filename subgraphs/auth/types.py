"""GraphQL types of the auth subgraph (names are the contract's)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING

import strawberry

from shared.enum_docs import ROLE_DESCRIPTION, ROLE_VALUES, described_enum
from shared.scopes import Role as DomainRole
from shared.scopes import Scope
from subgraphs.auth.models import User as UserRow

if TYPE_CHECKING:
    from subgraphs.auth.context import Context
    from subgraphs.auth.sessions import IssuedSession


ADMIN = [[Scope.ADMIN.value]]
SELF_OR_ADMIN = [["self_or_admin"]]

DELETED_USER_NAME = "Deleted user"
"""The name a deleted account's references show (`User.placeholder`)."""


@described_enum(name="Role", description=ROLE_DESCRIPTION, values=ROLE_VALUES)
class Role(Enum):
    ADMIN = "ADMIN"
    VENDOR = "VENDOR"
    CUSTOMER = "CUSTOMER"

    def to_domain(self) -> DomainRole:
        return DomainRole(self.value)


async def resolve_mfa_enabled(root: User, info: strawberry.Info[Context, None]) -> bool:
    if root.deleted:  # a deleted account's placeholder tells nothing of the account
        return False
    return await info.context.loaders.mfa_enabled_by_user_id.load(uuid.UUID(str(root.id)))


@strawberry.federation.type(
    keys=["id"],
    name="User",
    description="An account (owned by auth; payments, admin and profile add fields to it). "
    "Reached through me, users (ADMIN), a payment's payer, payee and createdBy, or an audit "
    "entry's actor; fields whose description names a narrower rule follow that rule.",
)
class User:
    id: strawberry.ID = strawberry.field(description="Stable account id (a UUID).")
    email: str = strawberry.field(description="Login e-mail address, stored lower-case.")
    name: str = strawberry.field(description="Display name.")
    role: Role = strawberry.field(description="ADMIN, VENDOR or CUSTOMER.")
    email_verified: bool = strawberry.field(
        description="Whether the address was confirmed (verifyEmail, or set by an ADMIN)."
    )
    created_at: datetime = strawberry.field(description="When the account was created.")
    last_login_at: datetime | None = strawberry.federation.field(
        description="When the user last logged in (ADMIN only).", requires_scopes=ADMIN
    )
    locked_until: datetime | None = strawberry.federation.field(
        description="Until when the account is locked after failed logins (ADMIN only).",
        requires_scopes=ADMIN,
    )

    deleted: bool = strawberry.field(
        default=False,
        description="True for an account an ADMIN deleted. References to it (a payment's "
        "createdBy, payer or payee, an audit entry's actor) still resolve, to a placeholder: "
        'id, role and createdAt kept, name "Deleted user", email empty, nothing else.',
    )

    mfa_enabled: bool = strawberry.federation.field(
        resolver=resolve_mfa_enabled,
        description="Whether the account signs in with TOTP as a second factor (self or ADMIN).",
        policy=SELF_OR_ADMIN,
    )

    @classmethod
    def from_row(cls, row: UserRow) -> User:
        return cls(
            id=strawberry.ID(str(row.id)),
            email=row.email,
            name=row.name,
            role=Role(row.role),
            email_verified=row.email_verified,
            created_at=row.created_at,
            last_login_at=row.last_login_at,
            locked_until=row.locked_until,
            deleted=row.deleted_at is not None,
        )

    @classmethod
    def placeholder(cls, row: UserRow) -> User:
        """What a reference to a deleted account shows: enough to keep the payments and audit
        entries that name it whole (`createdBy` is `User!`), none of the person's data."""
        return cls(
            id=strawberry.ID(str(row.id)),
            email="",
            name=DELETED_USER_NAME,
            role=Role(row.role),
            email_verified=False,
            created_at=row.created_at,
            last_login_at=None,
            locked_until=None,
            deleted=True,
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
        if row is None:  # never an account
            return None
        return cls.placeholder(row) if row.deleted_at is not None else cls.from_row(row)


@strawberry.type(
    description="A signed-in session: send `Authorization: Bearer <accessToken>` (HTTP) or "
    '`{"Authorization": "Bearer <accessToken>"}` (WebSocket connection_init); renew it with '
    "refreshToken before expiresIn runs out."
)
class AuthPayload:
    access_token: str = strawberry.field(
        description="JWT (RS256, 15 minutes) for the Authorization header; keep it in memory."
    )
    refresh_token: str = strawberry.field(
        description="Opaque, single use, valid 7 days: trade it for a new pair with refreshToken "
        "(reusing an old one ends the whole session family)."
    )
    expires_in: int = strawberry.field(description="Seconds until the access token expires.")
    user: User = strawberry.field(description="The signed-in account.")

    @classmethod
    def from_session(cls, issued: IssuedSession) -> AuthPayload:
        return cls(
            access_token=issued.access_token,
            refresh_token=issued.refresh_token,
            expires_in=issued.expires_in,
            user=User.from_row(issued.user),
        )


@strawberry.type(description="A new TOTP secret: add it to an authenticator app (RFC 6238).")
class TotpSetup:
    secret: str = strawberry.field(description="Base32 secret, for typing in by hand.")
    otpauth_uri: str = strawberry.field(description="otpauth:// URI, to show as a QR code.")


@strawberry.type(description="TOTP is on. Show the recovery codes once: they are not kept.")
class TotpEnabled:
    recovery_codes: list[str] = strawberry.field(
        description="10 single-use codes that replace a TOTP code when the device is lost."
    )


@strawberry.input(description="Self-service sign-up of a CUSTOMER account.")
class RegisterInput:
    email: str = strawberry.field(description="Login e-mail address (unique; CONFLICT if taken).")
    password: str = strawberry.field(
        description="12 to 128 characters, at least two of lower-case, upper-case, digits and "
        "symbols, 5 distinct characters, not containing the e-mail's name part; else "
        "BAD_USER_INPUT (field `password`)."
    )
    name: str = strawberry.field(description="Display name.")
    role: Role | None = strawberry.field(
        default=Role.CUSTOMER,
        description="Only CUSTOMER: VENDOR or ADMIN is FORBIDDEN (an ADMIN creates or promotes "
        "those).",
    )


@strawberry.input(description="E-mail and password of an account.")
class LoginInput:
    email: str = strawberry.field(description="The account's e-mail address.")
    password: str = strawberry.field(description="The account's password.")


@strawberry.input(description="Narrows the user directory; every given condition must hold.")
class UserFilter:
    role: Role | None = strawberry.field(default=None, description="Only accounts with this role.")
    search: str | None = strawberry.field(
        default=None,
        description="Case-insensitive text found in the e-mail address or the name.",
    )
    include_deleted: bool = strawberry.field(
        default=False, description="Also list deleted accounts."
    )


@strawberry.input(description="A new account. The password follows auth's policy.")
class CreateUserInput:
    email: str = strawberry.field(description="Login e-mail address (unique; CONFLICT if taken).")
    name: str = strawberry.field(description="Display name.")
    role: Role = strawberry.field(default=Role.CUSTOMER, description="The account's role.")
    password: str = strawberry.field(
        description="The initial password (auth's policy: at least 12 characters, mixed)."
    )


@strawberry.input(description="Fields to change; omitted fields stay as they are.")
class UpdateUserInput:
    name: str | None = strawberry.field(default=None, description="A new display name.")
    email: str | None = strawberry.field(
        default=None, description="A new address is unverified unless emailVerified says so."
    )
    email_verified: bool | None = strawberry.field(
        default=None, description="Mark the address as confirmed (true) or not (false)."
    )
