"""User administration by an ADMIN: create, edit, change role, delete.

Each operation runs the account rules (`accounts.py`) and writes its event (`admin:user:*`, the
contract's names) to auth's outbox in ONE transaction, then updates the Redis denylist after the
commit. Auth owns the accounts, so auth serves these mutations (docs/auth.md, "User
administration"); the admin subgraph no longer touches auth's tables.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from shared.context import Principal, revoked_user_key
from shared.errors import BadUserInput
from shared.scopes import Role
from subgraphs.auth import accounts, events, repository
from subgraphs.auth.models import User
from subgraphs.auth.passwords import Passwords
from subgraphs.auth.sessions import deny_session_ids

# How long denylist entries live: longer than any access token (15 minutes by default; this
# covers a lifetime configured up to a day), after which the tokens they refuse have expired.
DENYLIST_TTL_SECONDS = 24 * 3600


@dataclass(frozen=True, slots=True)
class NewUser:
    email: str
    name: str
    role: Role
    password: str


@dataclass(frozen=True, slots=True)
class UserEdit:
    name: str | None = None
    email: str | None = None
    email_verified: bool | None = None


def utcnow() -> datetime:
    return datetime.now(UTC)


def _summary(user: User) -> dict[str, object]:
    return {
        "userId": str(user.id),
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "emailVerified": user.email_verified,
    }


def _changes(changes: dict[str, tuple[object, object]]) -> dict[str, dict[str, object]]:
    return {name: {"from": old, "to": new} for name, (old, new) in changes.items()}


async def create_user(
    *, session: AsyncSession, passwords: Passwords, principal: Principal, new: NewUser
) -> User:
    now = utcnow()
    user = await accounts.admin_create_user(
        session,
        passwords=passwords,
        email=new.email,
        name=new.name,
        role=new.role,
        password=new.password,
        now=now,
    )
    await repository.add_event(
        session,
        type=events.ADMIN_USER_CREATED,
        actor_id=principal.id,
        data=_summary(user),
        now=now,
    )
    await session.commit()
    return user


async def update_user(
    *, session: AsyncSession, principal: Principal, user_id: str, edit: UserEdit
) -> User:
    now = utcnow()
    change = await accounts.admin_update_user(
        session,
        user_id=accounts.parse_user_id(user_id),
        now=now,
        name=edit.name,
        email=edit.email,
        email_verified=edit.email_verified,
    )
    if change.changes:
        await repository.add_event(
            session,
            type=events.ADMIN_USER_UPDATED,
            actor_id=principal.id,
            data={"userId": str(change.user.id), "changes": _changes(change.changes)},
            now=now,
        )
    await session.commit()
    return change.user


async def set_user_role(
    *, session: AsyncSession, redis: Redis, principal: Principal, user_id: str, role: Role
) -> User:
    """The user's sessions end (their access tokens are refused from now on), so the next token
    they hold, from their next login, carries the new role. An ADMIN cannot change their own
    role (that could leave nobody able to administer)."""
    target = accounts.parse_user_id(user_id)
    if target == principal.id:
        raise BadUserInput("You cannot change your own role", field="id")
    now = utcnow()
    change = await accounts.set_role(session, user_id=target, role=role, now=now)
    if change.changes:
        await repository.add_event(
            session,
            type=events.ADMIN_USER_UPDATED,
            actor_id=principal.id,
            data={
                "userId": str(change.user.id),
                "changes": _changes(change.changes),
                "revokedSessions": len(change.revoked_families),
            },
            now=now,
        )
    await session.commit()
    await deny_session_ids(
        redis, family_ids=change.revoked_families, ttl_seconds=DENYLIST_TTL_SECONDS
    )
    return change.user


async def delete_user(
    *, session: AsyncSession, redis: Redis, principal: Principal, user_id: str
) -> bool:
    """Soft delete: login and refresh refuse the account, its refresh tokens are revoked and
    every access token issued until now is refused (`revoked:user:<id>` = now)."""
    target = accounts.parse_user_id(user_id)
    if target == principal.id:
        raise BadUserInput("You cannot delete your own account", field="id")
    now = utcnow()
    change = await accounts.soft_delete_user(session, user_id=target, now=now)
    await repository.add_event(
        session,
        type=events.ADMIN_USER_DELETED,
        actor_id=principal.id,
        data={
            "userId": str(target),
            "email": change.user.email,
            "revokedSessions": len(change.revoked_families),
        },
        now=now,
    )
    await session.commit()
    # Tokens carry whole seconds (`iat`): everything issued up to this second is refused.
    stamp = max(int(now.timestamp()), int(time.time()))
    await redis.set(revoked_user_key(target), str(stamp), ex=DENYLIST_TTL_SECONDS)
    await deny_session_ids(
        redis, family_ids=change.revoked_families, ttl_seconds=DENYLIST_TTL_SECONDS
    )
    return True
