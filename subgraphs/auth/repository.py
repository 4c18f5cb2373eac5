"""SQL of the auth schema. Functions take the session first and keyword-only arguments; they
never commit (the service owns the transaction)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.outbox import with_trace_context
from subgraphs.auth.models import (
    OneTimeToken,
    OutboundEmail,
    OutboxEvent,
    PasswordResetRequest,
    RefreshToken,
    User,
)


async def get_user(
    session: AsyncSession, *, user_id: uuid.UUID, for_update: bool = False
) -> User | None:
    statement = select(User).where(User.id == user_id)
    if for_update:
        statement = statement.with_for_update()
    result = await session.execute(statement)
    return result.scalar_one_or_none()


async def get_user_by_email(
    session: AsyncSession, *, email: str, for_update: bool = False
) -> User | None:
    statement = select(User).where(func.lower(User.email) == email.lower())
    if for_update:
        statement = statement.with_for_update()
    result = await session.execute(statement)
    return result.scalar_one_or_none()


async def users_by_ids(session: AsyncSession, *, user_ids: Sequence[uuid.UUID]) -> list[User]:
    """Deleted accounts included (their references resolve to a placeholder)."""
    result = await session.execute(select(User).where(User.id.in_(user_ids)))
    return list(result.scalars())


async def insert_user(
    session: AsyncSession,
    *,
    email: str,
    name: str,
    role: str,
    password_hash: str,
    email_verified: bool,
    now: datetime,
) -> User:
    """Insert and flush (so a duplicate e-mail raises IntegrityError here)."""
    user = User(
        id=uuid.uuid4(),
        email=email,
        name=name,
        role=role,
        password_hash=password_hash,
        email_verified=email_verified,
        created_at=now,
        updated_at=now,
        failed_login_count=0,
    )
    session.add(user)
    await session.flush()
    return user


async def insert_refresh_token(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    family_id: uuid.UUID,
    token_hash: str,
    parent_id: uuid.UUID | None,
    now: datetime,
    expires_at: datetime,
    ip: str | None,
    amr: str = "pwd",
) -> RefreshToken:
    token = RefreshToken(
        id=uuid.uuid4(),
        user_id=user_id,
        family_id=family_id,
        token_hash=token_hash,
        parent_id=parent_id,
        created_at=now,
        expires_at=expires_at,
        ip=ip[:64] if ip else None,
        amr=amr,
    )
    session.add(token)
    return token


async def get_refresh_token(
    session: AsyncSession, *, token_hash: str, for_update: bool = False
) -> RefreshToken | None:
    statement = select(RefreshToken).where(RefreshToken.token_hash == token_hash)
    if for_update:
        statement = statement.with_for_update()
    result = await session.execute(statement)
    return result.scalar_one_or_none()


async def revoke_families(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    now: datetime,
    family_ids: Sequence[uuid.UUID] | None = None,
    keep_family_id: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    """Revoke the user's live refresh tokens (of `family_ids` when given, all others otherwise,
    sparing `keep_family_id`); returns the families touched."""
    statement = (
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(RefreshToken.family_id)
    )
    if family_ids is not None:
        statement = statement.where(RefreshToken.family_id.in_(family_ids))
    if keep_family_id is not None:
        statement = statement.where(RefreshToken.family_id != keep_family_id)
    result = await session.execute(statement, execution_options={"synchronize_session": False})
    return sorted(set(result.scalars()))


async def insert_one_time_token(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    purpose: str,
    token_hash: str,
    now: datetime,
    expires_at: datetime,
) -> None:
    session.add(
        OneTimeToken(
            id=uuid.uuid4(),
            user_id=user_id,
            purpose=purpose,
            token_hash=token_hash,
            created_at=now,
            expires_at=expires_at,
        )
    )


async def get_one_time_token(
    session: AsyncSession, *, token_hash: str, purpose: str
) -> OneTimeToken | None:
    """The token row, locked until the transaction ends."""
    result = await session.execute(
        select(OneTimeToken)
        .where(OneTimeToken.token_hash == token_hash, OneTimeToken.purpose == purpose)
        .with_for_update()
    )
    return result.scalar_one_or_none()


async def use_up_one_time_tokens(
    session: AsyncSession, *, user_id: uuid.UUID, purpose: str, now: datetime
) -> None:
    """Mark every unused token of this purpose as used (only the newest may work)."""
    await session.execute(
        update(OneTimeToken)
        .where(
            OneTimeToken.user_id == user_id,
            OneTimeToken.purpose == purpose,
            OneTimeToken.used_at.is_(None),
        )
        .values(used_at=now),
        execution_options={"synchronize_session": False},
    )


async def add_event(
    session: AsyncSession,
    *,
    type: str,
    actor_id: uuid.UUID | None,
    data: dict[str, Any],
    now: datetime,
) -> None:
    """An outbox row, committed with the change it describes (relayed to Redis Streams)."""
    session.add(
        OutboxEvent(
            id=uuid.uuid4(),
            type=type,
            occurred_at=now,
            actor_id=actor_id,
            data=with_trace_context(data),
        )
    )


async def queue_email(
    session: AsyncSession, *, to: str, subject: str, body: str, now: datetime
) -> None:
    session.add(
        OutboundEmail(
            id=uuid.uuid4(),
            to_address=to,
            subject=subject,
            body=body,
            created_at=now,
            attempts=0,
            next_attempt_at=now,
        )
    )


async def due_emails(session: AsyncSession, *, now: datetime, limit: int) -> list[OutboundEmail]:
    """Unsent mail due now, locked (other senders skip these rows)."""
    result = await session.execute(
        select(OutboundEmail)
        .where(OutboundEmail.sent_at.is_(None), OutboundEmail.next_attempt_at <= now)
        .order_by(OutboundEmail.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(result.scalars())


async def insert_reset_request(session: AsyncSession, *, email: str, now: datetime) -> None:
    session.add(PasswordResetRequest(id=uuid.uuid4(), email=email, requested_at=now))


async def claim_reset_requests(session: AsyncSession, *, limit: int) -> list[PasswordResetRequest]:
    """The oldest recorded reset requests, locked (other replicas skip them)."""
    result = await session.execute(
        select(PasswordResetRequest)
        .order_by(PasswordResetRequest.requested_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(result.scalars())


async def delete_reset_requests(session: AsyncSession, *, ids: Sequence[uuid.UUID]) -> None:
    await session.execute(
        delete(PasswordResetRequest).where(PasswordResetRequest.id.in_(ids)),
        execution_options={"synchronize_session": False},
    )
