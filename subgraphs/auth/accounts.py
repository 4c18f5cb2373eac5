"""Account administration rules: create, edit, re-role and soft-delete an account.

`user_admin.py` (the ADMIN-only mutations) calls these inside its transaction, which also
writes the `admin:user:*` event to auth's outbox, so the account change and its event commit
together. These functions therefore never commit; the caller does, and writes the Redis
denylist entries (`sessions.deny_session_ids`, `shared.context.revoked_user_key`) after the
commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import Conflict, NotFound
from shared.scopes import Role
from subgraphs.auth import repository
from subgraphs.auth.models import User
from subgraphs.auth.passwords import (
    Passwords,
    check_password_policy,
    clean_name,
    normalize_email,
)

DUPLICATE_EMAIL = "An account with this email already exists"
UNKNOWN_USER = "No such user"


@dataclass(frozen=True, slots=True)
class AccountChange:
    """What an administrative change did: the account, the fields that changed (old, new) and
    the refresh-token families it revoked (their access tokens must be denied after commit)."""

    user: User
    changes: dict[str, tuple[object, object]] = field(default_factory=dict)
    revoked_families: list[uuid.UUID] = field(default_factory=list)


async def _live_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await repository.get_user(session, user_id=user_id, for_update=True)
    if user is None or user.deleted_at is not None:
        raise NotFound(UNKNOWN_USER)
    return user


async def _ensure_email_free(
    session: AsyncSession, *, email: str, except_id: uuid.UUID | None = None
) -> None:
    """CONFLICT when another account (deleted ones included: their address stays reserved)
    holds the address. The unique index still decides a race (see `_flush`)."""
    other = await repository.get_user_by_email(session, email=email)
    if other is not None and other.id != except_id:
        raise Conflict(DUPLICATE_EMAIL)


async def _flush(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        await session.rollback()
        if "uq_users_email_lower" in str(exc.orig):
            raise Conflict(DUPLICATE_EMAIL) from None
        raise  # pragma: no cover - no other constraint can fire here


async def admin_create_user(
    session: AsyncSession,
    *,
    passwords: Passwords,
    email: str,
    name: str,
    role: Role,
    password: str,
    now: datetime,
) -> User:
    """A new account with the password an ADMIN chose (same policy as registration). The
    address counts as verified: an ADMIN vouches for it. Any role, ADMIN included."""
    email = normalize_email(email)
    name = clean_name(name)
    check_password_policy(password, email=email, field="password")
    await _ensure_email_free(session, email=email)
    password_hash = await passwords.hash(password)
    try:
        return await repository.insert_user(
            session,
            email=email,
            name=name,
            role=role.value,
            password_hash=password_hash,
            email_verified=True,
            now=now,
        )
    except IntegrityError as exc:
        await session.rollback()
        if "uq_users_email_lower" in str(exc.orig):
            raise Conflict(DUPLICATE_EMAIL) from None
        raise  # pragma: no cover - no other unique constraint can fire here


async def admin_update_user(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    now: datetime,
    name: str | None = None,
    email: str | None = None,
    email_verified: bool | None = None,
) -> AccountChange:
    """Change name, e-mail and/or the verified flag. A new address is unverified unless
    `email_verified` says otherwise in the same call."""
    user = await _live_user(session, user_id)
    changes: dict[str, tuple[object, object]] = {}
    if name is not None:
        cleaned = clean_name(name)
        if cleaned != user.name:
            changes["name"] = (user.name, cleaned)
            user.name = cleaned
    if email is not None:
        normalized = normalize_email(email)
        if normalized != user.email:
            await _ensure_email_free(session, email=normalized, except_id=user.id)
            changes["email"] = (user.email, normalized)
            user.email = normalized
            if email_verified is None and user.email_verified:
                changes["emailVerified"] = (True, False)
                user.email_verified = False
    if email_verified is not None and email_verified != user.email_verified:
        changes["emailVerified"] = (user.email_verified, email_verified)
        user.email_verified = email_verified
    if changes:
        user.updated_at = now
        await _flush(session)
    return AccountChange(user=user, changes=changes)


async def set_role(
    session: AsyncSession, *, user_id: uuid.UUID, role: Role, now: datetime
) -> AccountChange:
    """Give the account another role and end its sessions (refresh families revoked), so the
    next token it gets (by logging in again) carries the new role's scopes."""
    user = await _live_user(session, user_id)
    if user.role == role.value:
        return AccountChange(user=user)
    previous = user.role
    user.role = role.value
    user.updated_at = now
    revoked = await repository.revoke_families(session, user_id=user.id, now=now)
    return AccountChange(
        user=user, changes={"role": (previous, role.value)}, revoked_families=revoked
    )


async def soft_delete_user(
    session: AsyncSession, *, user_id: uuid.UUID, now: datetime
) -> AccountChange:
    """Mark the account deleted (login and refresh refuse it from now on) and revoke every
    refresh token. The row stays, so history (payments, audit) keeps its user; the e-mail
    address stays reserved."""
    user = await _live_user(session, user_id)
    user.deleted_at = now
    user.updated_at = now
    revoked = await repository.revoke_families(session, user_id=user.id, now=now)
    return AccountChange(
        user=user, changes={"deletedAt": (None, now.isoformat())}, revoked_families=revoked
    )


def parse_user_id(value: str) -> uuid.UUID:
    """A user id from GraphQL input; anything that is not a UUID names no user (NOT_FOUND)."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound(UNKNOWN_USER) from None
