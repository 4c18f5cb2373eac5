"""Password reset and e-mail verification: single-use tokens (stored hashed) sent by mail.

The mail row is written in the same transaction as the token, and sent by `mailer.MailSender`
after the commit; nothing here talks to SMTP. A reset request is only recorded on the request
path (the same work whether or not the account exists); the sender's pass runs
`process_reset_requests`, which makes the token and the mail.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import BadUserInput
from shared.ratelimit import RateLimiter
from subgraphs.auth import events, repository
from subgraphs.auth.models import PURPOSE_EMAIL_VERIFICATION, PURPOSE_PASSWORD_RESET, User
from subgraphs.auth.passwords import check_password_policy, lookup_email
from subgraphs.auth.runtime import AuthRuntime
from subgraphs.auth.sessions import deny_sessions, hash_token, new_secret_token

log = logging.getLogger("bff.auth")

INVALID_TOKEN = "This link is invalid or has expired"
RATE_LIMIT_PREFIX = "rl:auth"


def _link(runtime: AuthRuntime, path: str, token: str) -> str:
    base = runtime.settings.public_app_url.rstrip("/")
    return f"{base}/{path}?token={quote(token, safe='')}"


async def _new_token(
    session: AsyncSession, *, user: User, purpose: str, ttl_seconds: int, now: datetime
) -> str:
    """A fresh single-use token; earlier unused ones of the same purpose stop working."""
    await repository.use_up_one_time_tokens(session, user_id=user.id, purpose=purpose, now=now)
    token = new_secret_token()
    await repository.insert_one_time_token(
        session,
        user_id=user.id,
        purpose=purpose,
        token_hash=hash_token(token),
        now=now,
        expires_at=now + timedelta(seconds=ttl_seconds),
    )
    return token


async def queue_verification_mail(
    session: AsyncSession, *, runtime: AuthRuntime, user: User, now: datetime
) -> None:
    settings = runtime.settings
    token = await _new_token(
        session,
        user=user,
        purpose=PURPOSE_EMAIL_VERIFICATION,
        ttl_seconds=settings.email_verification_ttl_seconds,
        now=now,
    )
    hours = settings.email_verification_ttl_seconds // 3600
    await repository.queue_email(
        session,
        to=user.email,
        subject="Verify your e-mail address",
        body=(
            f"Hello {user.name},\n\n"
            "Please confirm your e-mail address by opening this link:\n\n"
            f"{_link(runtime, 'verify-email', token)}\n\n"
            f"The link works once and expires in {hours} hours.\n"
        ),
        now=now,
    )


async def request_password_reset(
    *,
    session: AsyncSession,
    runtime: AuthRuntime,
    redis: Redis,
    client_ip: str | None,
    email: str,
) -> bool:
    """Always true: whether the account exists is never revealed, not even by the time taken.

    The request path does the same work for every well-formed address (one INSERT of the
    normalised address into `password_reset_requests`, a commit, a wake-up of the mail sender);
    the account lookup, the token and the mail happen in `process_reset_requests`, off the
    request path. A malformed address (syntax only, which the caller knows anyway) records
    nothing."""
    limits = runtime.limits
    normalized = lookup_email(email)
    await RateLimiter(redis, prefix=RATE_LIMIT_PREFIX).hit(
        (limits.reset_request_ip, client_ip or "unknown"),
        (limits.reset_request_account, normalized or email.strip().lower()),
    )
    if normalized is None:
        return True
    await repository.insert_reset_request(session, email=normalized, now=datetime.now(UTC))
    await session.commit()
    runtime.wake_mailer()
    return True


async def process_reset_requests(session: AsyncSession, *, runtime: AuthRuntime, limit: int) -> int:
    """Turn recorded reset requests into a token and a mail for each live account (nothing for
    unknown or deleted addresses), delete them, commit; returns how many were handled."""
    requests = await repository.claim_reset_requests(session, limit=limit)
    if not requests:
        return 0
    now = datetime.now(UTC)
    settings = runtime.settings
    minutes = settings.password_reset_ttl_seconds // 60
    for request in requests:
        user = await repository.get_user_by_email(session, email=request.email)
        if user is None or user.deleted_at is not None:
            continue
        token = await _new_token(
            session,
            user=user,
            purpose=PURPOSE_PASSWORD_RESET,
            ttl_seconds=settings.password_reset_ttl_seconds,
            now=now,
        )
        await repository.queue_email(
            session,
            to=user.email,
            subject="Reset your password",
            body=(
                f"Hello {user.name},\n\n"
                "Someone asked to reset the password of your account. To choose a new password, "
                "open this link:\n\n"
                f"{_link(runtime, 'reset-password', token)}\n\n"
                f"The link works once and expires in {minutes} minutes. If you did not ask for "
                "this, ignore this message: your password stays the same.\n"
            ),
            now=now,
        )
    await repository.delete_reset_requests(session, ids=[r.id for r in requests])
    await session.commit()
    return len(requests)


async def _redeem(session: AsyncSession, *, token: str, purpose: str, now: datetime) -> User:
    """The live user a valid token belongs to, the token marked used; else BAD_USER_INPUT."""
    row = await repository.get_one_time_token(
        session, token_hash=hash_token(token), purpose=purpose
    )
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise BadUserInput(INVALID_TOKEN, field="token")
    user = await repository.get_user(session, user_id=row.user_id, for_update=True)
    if user is None or user.deleted_at is not None:
        raise BadUserInput(INVALID_TOKEN, field="token")
    row.used_at = now
    return user


async def reset_password(
    *,
    session: AsyncSession,
    runtime: AuthRuntime,
    redis: Redis,
    client_ip: str | None,
    token: str,
    new_password: str,
) -> bool:
    await RateLimiter(redis, prefix=RATE_LIMIT_PREFIX).hit(
        (runtime.limits.reset_ip, client_ip or "unknown")
    )
    now = datetime.now(UTC)
    user = await _redeem(session, token=token, purpose=PURPOSE_PASSWORD_RESET, now=now)
    check_password_policy(new_password, email=user.email, field="newPassword")
    user.password_hash = await runtime.passwords.hash(new_password)
    # Whoever holds the mailbox owns the account: a reset also lifts a lockout.
    user.failed_login_count = 0
    user.locked_until = None
    user.updated_at = now
    revoked = await repository.revoke_families(session, user_id=user.id, now=now)
    await repository.add_event(
        session,
        type=events.PASSWORD_CHANGED,
        actor_id=user.id,
        data={"userId": str(user.id), "reason": "reset", "revokedSessions": len(revoked)},
        now=now,
    )
    await session.commit()
    await deny_sessions(redis, runtime=runtime, family_ids=revoked)
    log.info("password reset", extra={"user_id": str(user.id)})
    return True


async def verify_email(*, session: AsyncSession, token: str) -> bool:
    now = datetime.now(UTC)
    user = await _redeem(session, token=token, purpose=PURPOSE_EMAIL_VERIFICATION, now=now)
    user.email_verified = True
    user.updated_at = now
    await session.commit()
    return True
