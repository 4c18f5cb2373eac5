"""Login sessions: a refresh-token family per login, access tokens naming it (`sid`), rotation,
and revocation (database rows plus the Redis denylist that every service checks).

Refresh tokens are opaque random strings; only their SHA-256 is stored. Each use marks the token
used and issues a child in the same family; presenting a used token again is treated as theft
and revokes the whole family.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from shared.context import revoked_session_key
from shared.scopes import Role, scopes_for
from subgraphs.auth import repository
from subgraphs.auth.models import RefreshToken, User
from subgraphs.auth.runtime import AuthRuntime


def new_secret_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedSession:
    access_token: str
    refresh_token: str
    expires_in: int
    user: User
    family_id: uuid.UUID


PASSWORD_ONLY: tuple[str, ...] = ("pwd",)
PASSWORD_AND_OTP: tuple[str, ...] = ("pwd", "otp")


def issue_access_token(
    runtime: AuthRuntime, *, user: User, family_id: uuid.UUID, amr: Sequence[str] = PASSWORD_ONLY
) -> str:
    settings = runtime.settings
    role = Role(user.role)
    token, _claims = runtime.keys.issue(
        user_id=str(user.id),
        email=user.email,
        role=role.value,
        scopes=scopes_for(role),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl_seconds=settings.access_token_ttl_seconds,
        session_id=str(family_id),
        amr=amr,
    )
    return token


async def issue_session(
    session: AsyncSession,
    *,
    runtime: AuthRuntime,
    user: User,
    now: datetime,
    ip: str | None,
    parent: RefreshToken | None = None,
    amr: Sequence[str] = PASSWORD_ONLY,
) -> IssuedSession:
    """A refresh token (a new family, or the child of `parent`) and an access token for it.
    `amr` (how the login was authenticated) is kept with the family: a child inherits it."""
    family_id = parent.family_id if parent is not None else uuid.uuid4()
    methods = tuple(parent.amr.split()) if parent is not None else tuple(amr)
    refresh_token = new_secret_token()
    await repository.insert_refresh_token(
        session,
        user_id=user.id,
        family_id=family_id,
        token_hash=hash_token(refresh_token),
        parent_id=parent.id if parent is not None else None,
        now=now,
        expires_at=now + timedelta(seconds=runtime.settings.refresh_token_ttl_seconds),
        ip=ip,
        amr=" ".join(methods),
    )
    return IssuedSession(
        access_token=issue_access_token(runtime, user=user, family_id=family_id, amr=methods),
        refresh_token=refresh_token,
        expires_in=runtime.settings.access_token_ttl_seconds,
        user=user,
        family_id=family_id,
    )


async def deny_sessions(
    redis: Redis, *, runtime: AuthRuntime, family_ids: Iterable[uuid.UUID | str]
) -> None:
    """Refuse the access tokens of these sessions until they would have expired anyway."""
    await deny_session_ids(
        redis, family_ids=family_ids, ttl_seconds=runtime.settings.access_token_ttl_seconds
    )


async def deny_session_ids(
    redis: Redis, *, family_ids: Iterable[uuid.UUID | str], ttl_seconds: int
) -> None:
    """`deny_sessions` with an explicit lifetime (user administration keeps its entries for a
    day): the entries must live at least as long as an access token (`ttl_seconds`)."""
    keys = [revoked_session_key(str(family_id)) for family_id in family_ids if str(family_id)]
    if not keys:
        return
    ttl = ttl_seconds
    async with redis.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.set(key, "1", ex=ttl)
        await pipe.execute()


def parse_session_id(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
