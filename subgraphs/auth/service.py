"""Business rules of accounts and sessions: register, login, refresh, logout, change password.

Every function that changes state does it in ONE transaction on the given session (state, outbox
event and queued mail together) and commits it; Redis denylist entries are written right after
the commit. Password reset and e-mail verification live in `recovery.py`; the second factor
(TOTP) in `mfa.py`; the lockout and rate limiter both use in `lockout.py`.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

from redis.asyncio import Redis
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.context import Principal
from shared.errors import BadUserInput, Conflict, Forbidden, MfaRequired, Unauthenticated
from shared.scopes import Role
from subgraphs.auth import events, mfa, recovery, repository
from subgraphs.auth.lockout import client_key, count_failure, limiter, record_sign_in
from subgraphs.auth.models import User
from subgraphs.auth.passwords import (
    check_password_policy,
    clean_name,
    lookup_email,
    normalize_email,
)
from subgraphs.auth.runtime import AuthRuntime
from subgraphs.auth.sessions import (
    IssuedSession,
    deny_sessions,
    hash_token,
    issue_session,
    parse_session_id,
)

log = logging.getLogger("bff.auth")

LOGIN_FAILED = "Invalid email or password"
REFRESH_FAILED = "Invalid refresh token"


def utcnow() -> datetime:
    return datetime.now(UTC)


async def register(
    *,
    session: AsyncSession,
    runtime: AuthRuntime,
    redis: Redis,
    client_ip: str | None,
    email: str,
    password: str,
    name: str,
    role: Role,
) -> IssuedSession:
    limits = runtime.limits
    await limiter(redis).hit(
        (limits.register_ip, client_key(client_ip)),
        (limits.register_account, email.strip().lower()),
    )
    if role is not Role.CUSTOMER:
        # VENDOR (payments scopes) and ADMIN accounts are created or promoted by an ADMIN.
        raise Forbidden("Only CUSTOMER accounts can be self-registered")
    email = normalize_email(email)
    name = clean_name(name)
    check_password_policy(password, email=email, field="password")
    password_hash = await runtime.passwords.hash(password)
    now = utcnow()
    try:
        user = await repository.insert_user(
            session,
            email=email,
            name=name,
            role=role.value,
            password_hash=password_hash,
            email_verified=False,
            now=now,
        )
    except IntegrityError as exc:
        await session.rollback()
        if "uq_users_email_lower" in str(exc.orig):
            raise Conflict("An account with this email already exists") from None
        raise  # pragma: no cover - no other unique constraint can fire here
    issued = await issue_session(session, runtime=runtime, user=user, now=now, ip=client_ip)
    await recovery.queue_verification_mail(session, runtime=runtime, user=user, now=now)
    await repository.add_event(
        session,
        type=events.USER_REGISTERED,
        actor_id=user.id,
        data={"userId": str(user.id), "email": user.email, "name": user.name, "role": user.role},
        now=now,
    )
    await session.commit()
    runtime.wake_mailer()
    log.info("user registered", extra={"user_id": str(user.id)})
    return issued


async def login(
    *,
    session: AsyncSession,
    runtime: AuthRuntime,
    redis: Redis,
    client_ip: str | None,
    email: str,
    password: str,
) -> IssuedSession:
    limits = runtime.limits
    rate = limiter(redis)
    account = lookup_email(email) or email.strip().lower()
    attempt = await rate.hit(
        (limits.login_ip, client_key(client_ip)), (limits.login_account, account)
    )
    now = utcnow()
    user = await repository.get_user_by_email(session, email=account, for_update=True)
    # Unknown, deleted and locked accounts get the same answer, after the same hashing work.
    password_hash = user.password_hash if user is not None and user.deleted_at is None else None
    matches = await runtime.passwords.verify(password_hash, password)
    locked = user is not None and user.locked_until is not None and user.locked_until > now
    if user is None or password_hash is None or locked or not matches:
        if user is not None and password_hash is not None and not locked:
            count_failure(runtime, user, now)
        await session.commit()
        raise Unauthenticated(LOGIN_FAILED)

    if runtime.passwords.needs_rehash(user.password_hash):
        user.password_hash = await runtime.passwords.hash(password)
    if await mfa.is_enabled(session, user_id=user.id):
        # The password was right, so its failed-login slot is given back; the lockout counter
        # is left alone (only a complete sign-in clears it, so wrong codes keep counting).
        await session.commit()
        await rate.refund(attempt, keys=[rate.key(limits.login_account, account)])
        raise MfaRequired(await mfa.start_mfa_login(redis, runtime=runtime, user_id=user.id))
    record_sign_in(user, now)
    issued = await issue_session(session, runtime=runtime, user=user, now=now, ip=client_ip)
    await repository.add_event(
        session,
        type=events.USER_LOGGED_IN,
        actor_id=user.id,
        data={"userId": str(user.id), "sessionId": str(issued.family_id), "ip": client_ip},
        now=now,
    )
    await session.commit()
    # A successful login does not use up the account's budget of failed attempts.
    await rate.refund(attempt, keys=[rate.key(limits.login_account, account)])
    return issued


def _usable(user: User | None, now: datetime) -> bool:
    return (
        user is not None
        and user.deleted_at is None
        and (user.locked_until is None or user.locked_until <= now)
    )


async def refresh(
    *,
    session: AsyncSession,
    runtime: AuthRuntime,
    redis: Redis,
    client_ip: str | None,
    refresh_token: str,
) -> IssuedSession:
    now = utcnow()
    # The row lock makes concurrent uses of one token take turns: exactly one rotates it.
    token = await repository.get_refresh_token(
        session, token_hash=hash_token(refresh_token), for_update=True
    )
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        raise Unauthenticated(REFRESH_FAILED)
    if token.used_at is not None:
        await repository.revoke_families(
            session, user_id=token.user_id, family_ids=[token.family_id], now=now
        )
        await session.commit()
        await deny_sessions(redis, runtime=runtime, family_ids=[token.family_id])
        log.warning(
            "refresh token reuse: session revoked",
            extra={"user_id": str(token.user_id), "session_id": str(token.family_id)},
        )
        raise Unauthenticated(REFRESH_FAILED)
    user = await repository.get_user(session, user_id=token.user_id)
    if user is None or not _usable(user, now):
        raise Unauthenticated(REFRESH_FAILED)
    token.used_at = now
    issued = await issue_session(
        session, runtime=runtime, user=user, now=now, ip=client_ip, parent=token
    )
    await session.commit()
    return issued


async def logout(
    *,
    session: AsyncSession,
    runtime: AuthRuntime,
    redis: Redis,
    principal: Principal,
    refresh_token: str,
) -> bool:
    """End the caller's current session and the one `refresh_token` belongs to. A token of
    another user (or an unknown one) is left alone and the answer is still true."""
    now = utcnow()
    family_ids: list[uuid.UUID] = []
    current = parse_session_id(principal.session_id)
    if current is not None:
        family_ids.append(current)
    token = await repository.get_refresh_token(session, token_hash=hash_token(refresh_token))
    if token is not None and token.user_id == principal.id:
        family_ids.append(token.family_id)
    if family_ids:
        await repository.revoke_families(
            session, user_id=principal.id, family_ids=family_ids, now=now
        )
    await repository.add_event(
        session,
        type=events.USER_LOGGED_OUT,
        actor_id=principal.id,
        data={"userId": str(principal.id), "sessionIds": sorted({str(f) for f in family_ids})},
        now=now,
    )
    await session.commit()
    await deny_sessions(redis, runtime=runtime, family_ids=family_ids)
    return True


async def change_password(
    *,
    session: AsyncSession,
    runtime: AuthRuntime,
    redis: Redis,
    principal: Principal,
    current_password: str,
    new_password: str,
) -> bool:
    rate = limiter(redis)
    budget = runtime.limits.change_password_account
    attempt = await rate.hit((budget, str(principal.id)))
    now = utcnow()
    user = await repository.get_user(session, user_id=principal.id, for_update=True)
    if user is None or user.deleted_at is not None:
        raise Unauthenticated()
    if not await runtime.passwords.verify(user.password_hash, current_password):
        raise BadUserInput("Current password is incorrect", field="currentPassword")
    await rate.refund(attempt)
    check_password_policy(new_password, email=user.email, field="newPassword")
    if new_password == current_password:
        raise BadUserInput("New password must differ from the current one", field="newPassword")
    user.password_hash = await runtime.passwords.hash(new_password)
    user.updated_at = now
    current = parse_session_id(principal.session_id)
    revoked = await repository.revoke_families(
        session, user_id=user.id, now=now, keep_family_id=current
    )
    await repository.add_event(
        session,
        type=events.PASSWORD_CHANGED,
        actor_id=user.id,
        data={"userId": str(user.id), "reason": "change", "revokedSessions": len(revoked)},
        now=now,
    )
    await session.commit()
    await deny_sessions(redis, runtime=runtime, family_ids=revoked)
    return True


async def current_user(*, session: AsyncSession, principal: Principal) -> User:
    user = await repository.get_user(session, user_id=principal.id)
    if user is None or user.deleted_at is not None:
        raise Unauthenticated()
    return user
