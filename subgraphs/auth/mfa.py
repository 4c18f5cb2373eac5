"""TOTP multi-factor sign-in (RFC 6238: SHA1, 6 digits, 30 s): enrolment, the second login step,
disabling.

- `login` of an enrolled account (service.py) ends with `start_mfa_login`: a random mfaToken,
  only its SHA-256 in Redis (`mfa:login:<hash>` -> user id) for `MFA_TOKEN_TTL_SECONDS` (300).
- `login_with_totp` redeems it with a TOTP or a recovery code: the token is deleted when it
  succeeds (single use); the tokens it issues carry `amr: ["pwd", "otp"]`.
- A TOTP code is accepted once: the step it matched becomes `last_used_step`, and that step and
  older ones are refused from then on. A recovery code is marked used (once ever).
- Wrong codes at login and disableTotp count towards the account lockout (`lockout.py`, shared
  with passwords); every code attempt is rate limited per account (wrong ones only: a right one
  gives its slot back) and, where there is an address, per address. Each wrong code writes
  `auth:mfa:failed`. Codes, secrets and tokens are never logged or put into events.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NoReturn

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from shared.context import Principal
from shared.errors import BadUserInput, Conflict, Forbidden, Unauthenticated
from subgraphs.auth import events, mfa_repository, repository
from subgraphs.auth.lockout import (
    client_key,
    count_failure,
    is_locked,
    limiter,
    record_sign_in,
)
from subgraphs.auth.mfa_crypto import (
    is_totp_code,
    matching_step,
    new_recovery_codes,
    new_secret,
    provisioning_uri,
)
from subgraphs.auth.models import TotpCredential, User
from subgraphs.auth.runtime import AuthRuntime
from subgraphs.auth.sessions import PASSWORD_AND_OTP, IssuedSession, hash_token, issue_session
from subgraphs.auth.sessions import new_secret_token as new_mfa_token

MFA_TOKEN_PREFIX = "mfa:login:"
SIGN_IN_EXPIRED = "Sign-in expired or invalid: log in again"
INVALID_CODE = "Invalid code"

METHOD_TOTP = "totp"
METHOD_RECOVERY_CODE = "recovery_code"


@dataclass(frozen=True, slots=True)
class TotpSetup:
    secret: str
    otpauth_uri: str


def mfa_token_key(token: str) -> str:
    return MFA_TOKEN_PREFIX + hash_token(token)


def utcnow() -> datetime:
    return datetime.now(UTC)


async def is_enabled(session: AsyncSession, *, user_id: uuid.UUID) -> bool:
    return bool(await mfa_repository.enabled_user_ids(session, user_ids=[user_id]))


async def start_mfa_login(redis: Redis, *, runtime: AuthRuntime, user_id: uuid.UUID) -> str:
    """The mfaToken of a login whose password was right (single use, stored hashed)."""
    token = new_mfa_token()
    ttl = runtime.settings.mfa_token_ttl_seconds
    await redis.set(mfa_token_key(token), str(user_id), ex=ttl)
    return token


async def _live_user(session: AsyncSession, *, user_id: uuid.UUID) -> User:
    user = await repository.get_user(session, user_id=user_id, for_update=True)
    if user is None or user.deleted_at is not None:
        raise Unauthenticated()
    return user


async def start_enrollment(
    *, session: AsyncSession, runtime: AuthRuntime, principal: Principal
) -> TotpSetup:
    """A new secret for the caller (replacing an unconfirmed one); CONFLICT once enabled."""
    now = utcnow()
    user = await _live_user(session, user_id=principal.id)  # the row lock serialises starts
    credential = await mfa_repository.get_credential(session, user_id=user.id, for_update=True)
    if credential is not None and credential.confirmed_at is not None:
        raise Conflict("TOTP is already enabled: disable it before enrolling again")
    secret = new_secret()
    sealed = runtime.mfa_keys.encrypt_secret(secret, user_id=user.id)
    if credential is None:
        session.add(
            TotpCredential(user_id=user.id, secret_encrypted=sealed, created_at=now, updated_at=now)
        )
    else:
        credential.secret_encrypted = sealed
        credential.last_used_step = None
        credential.created_at = now
        credential.updated_at = now
    await session.commit()
    issuer = runtime.settings.totp_issuer
    return TotpSetup(secret, provisioning_uri(secret, account=user.email, issuer=issuer))


async def _check_code(
    session: AsyncSession,
    *,
    runtime: AuthRuntime,
    credential: TotpCredential,
    code: str,
    now: datetime,
    recovery: bool,
) -> str | None:
    """The method `code` is right for (using it up), or None."""
    code = code.strip()
    if is_totp_code(code):
        secret = runtime.mfa_keys.decrypt_secret(
            credential.secret_encrypted, user_id=credential.user_id
        )
        step = matching_step(secret, code, now=now.timestamp())
        last = credential.last_used_step
        if step is None or (last is not None and step <= last):
            return None
        credential.last_used_step = step
        credential.updated_at = now
        return METHOD_TOTP
    if not recovery or not code or len(code) > 64:
        return None
    used = await mfa_repository.use_recovery_code(
        session,
        user_id=credential.user_id,
        code_hash=runtime.mfa_keys.code_hash(code),
        now=now,
    )
    return METHOD_RECOVERY_CODE if used else None


async def _refuse_code(
    session: AsyncSession,
    *,
    runtime: AuthRuntime,
    user: User,
    stage: str,
    client_ip: str | None,
    now: datetime,
    lockout: bool,
) -> NoReturn:
    """Record a wrong code (lockout count, `auth:mfa:failed`), commit, answer BAD_USER_INPUT."""
    if lockout:
        count_failure(runtime, user, now)
    await repository.add_event(
        session,
        type=events.MFA_FAILED,
        actor_id=user.id,
        data={
            "userId": str(user.id),
            "stage": stage,
            "ip": client_ip,
            "locked": is_locked(user, now),
        },
        now=now,
    )
    await session.commit()
    raise BadUserInput(INVALID_CODE, field="code")


async def _require_code(
    session: AsyncSession,
    *,
    runtime: AuthRuntime,
    user: User,
    credential: TotpCredential,
    code: str,
    stage: str,
    client_ip: str | None,
    now: datetime,
) -> str:
    """The method of a right code (used up); a wrong one is refused (`_refuse_code`). Only the
    confirmation of an enrolment takes TOTP alone and does not count towards the lockout."""
    enrolling = stage == "confirm"
    method = await _check_code(
        session, runtime=runtime, credential=credential, code=code, now=now, recovery=not enrolling
    )
    if method is None:
        await _refuse_code(
            session,
            runtime=runtime,
            user=user,
            stage=stage,
            client_ip=client_ip,
            now=now,
            lockout=not enrolling,
        )
    return method


async def confirm_enrollment(
    *,
    session: AsyncSession,
    runtime: AuthRuntime,
    redis: Redis,
    client_ip: str | None,
    principal: Principal,
    code: str,
) -> list[str]:
    """Enable TOTP with a current code of the new secret; returns 10 recovery codes (the only
    time they are shown). A wrong code is BAD_USER_INPUT (rate limited, not a lockout: the
    caller is signed in and only proves they stored the new secret)."""
    rate = limiter(redis)
    attempt = await rate.hit((runtime.limits.mfa_account, str(principal.id)))
    now = utcnow()
    user = await _live_user(session, user_id=principal.id)
    credential = await mfa_repository.get_credential(session, user_id=user.id, for_update=True)
    if credential is not None and credential.confirmed_at is not None:
        raise Conflict("TOTP is already enabled")
    if credential is None:
        raise BadUserInput("Start a TOTP enrolment first", field="code")
    await _require_code(
        session,
        runtime=runtime,
        user=user,
        credential=credential,
        code=code,
        stage="confirm",
        client_ip=client_ip,
        now=now,
    )
    credential.confirmed_at = now
    recovery_codes = new_recovery_codes()
    await mfa_repository.replace_recovery_codes(
        session,
        user_id=user.id,
        code_hashes=[runtime.mfa_keys.code_hash(c) for c in recovery_codes],
        now=now,
    )
    await repository.add_event(
        session, type=events.MFA_ENABLED, actor_id=user.id, data={"userId": str(user.id)}, now=now
    )
    await session.commit()
    await rate.refund(attempt)
    return recovery_codes


async def disable_totp(
    *,
    session: AsyncSession,
    runtime: AuthRuntime,
    redis: Redis,
    client_ip: str | None,
    principal: Principal,
    code: str,
) -> bool:
    """Turn TOTP off with a current TOTP code or a recovery code (its secret and the recovery
    codes are deleted). Wrong codes count towards the lockout; during a lock: FORBIDDEN."""
    limits = runtime.limits
    rate = limiter(redis)
    attempt = await rate.hit(
        (limits.mfa_ip, client_key(client_ip)), (limits.mfa_account, str(principal.id))
    )
    now = utcnow()
    user = await _live_user(session, user_id=principal.id)
    credential = await mfa_repository.get_credential(session, user_id=user.id, for_update=True)
    if credential is None or credential.confirmed_at is None:
        raise BadUserInput("TOTP is not enabled", field="code")
    if is_locked(user, now):
        raise Forbidden("The account is locked after failed attempts: try again later")
    method = await _require_code(
        session,
        runtime=runtime,
        user=user,
        credential=credential,
        code=code,
        stage="disable",
        client_ip=client_ip,
        now=now,
    )
    await mfa_repository.delete_credential(session, credential=credential)
    await repository.add_event(
        session,
        type=events.MFA_DISABLED,
        actor_id=user.id,
        data={"userId": str(user.id), "method": method},
        now=now,
    )
    await session.commit()
    await rate.refund(attempt, keys=[rate.key(limits.mfa_account, str(principal.id))])
    return True


def _user_id(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value is not None else None
    except ValueError:
        return None


async def login_with_totp(
    *,
    session: AsyncSession,
    runtime: AuthRuntime,
    redis: Redis,
    client_ip: str | None,
    mfa_token: str,
    code: str,
) -> IssuedSession:
    """The second login step. Unknown, expired or used mfaToken, locked or deleted account:
    UNAUTHENTICATED (log in again); wrong code: BAD_USER_INPUT `code` (try again)."""
    limits = runtime.limits
    rate = limiter(redis)
    await rate.hit((limits.mfa_ip, client_key(client_ip)))
    key = mfa_token_key(mfa_token)
    user_id = _user_id(await redis.get(key))
    if user_id is None:
        raise Unauthenticated(SIGN_IN_EXPIRED)
    attempt = await rate.hit((limits.mfa_account, str(user_id)))
    now = utcnow()
    user = await repository.get_user(session, user_id=user_id, for_update=True)
    credential = await mfa_repository.get_credential(session, user_id=user_id, for_update=True)
    if (
        user is None
        or user.deleted_at is not None
        or is_locked(user, now)
        or credential is None
        or credential.confirmed_at is None
    ):
        await session.rollback()
        await redis.delete(key)
        raise Unauthenticated(SIGN_IN_EXPIRED)
    try:
        method = await _require_code(
            session,
            runtime=runtime,
            user=user,
            credential=credential,
            code=code,
            stage="login",
            client_ip=client_ip,
            now=now,
        )
    finally:
        if is_locked(user, now):  # the wrong code that locked the account ends this sign-in
            await redis.delete(key)
    # Single use: whoever deletes the token first signs in (the user row lock orders them).
    if not await redis.delete(key):
        await session.rollback()
        raise Unauthenticated(SIGN_IN_EXPIRED)
    record_sign_in(user, now)
    issued = await issue_session(
        session, runtime=runtime, user=user, now=now, ip=client_ip, amr=PASSWORD_AND_OTP
    )
    await repository.add_event(
        session,
        type=events.USER_LOGGED_IN,
        actor_id=user.id,
        data={
            "userId": str(user.id),
            "sessionId": str(issued.family_id),
            "ip": client_ip,
            "mfa": method,
        },
        now=now,
    )
    await session.commit()
    await rate.refund(attempt)
    return issued
