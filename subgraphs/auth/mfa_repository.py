"""SQL of TOTP credentials and recovery codes (session first, keyword-only; never commits)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.auth.models import RecoveryCode, TotpCredential


async def get_credential(
    session: AsyncSession, *, user_id: uuid.UUID, for_update: bool = False
) -> TotpCredential | None:
    statement = select(TotpCredential).where(TotpCredential.user_id == user_id)
    if for_update:
        statement = statement.with_for_update()
    result = await session.execute(statement)
    return result.scalar_one_or_none()


async def enabled_user_ids(
    session: AsyncSession, *, user_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of these users have a confirmed TOTP credential (one statement)."""
    result = await session.execute(
        select(TotpCredential.user_id).where(
            TotpCredential.user_id.in_(user_ids), TotpCredential.confirmed_at.is_not(None)
        )
    )
    return set(result.scalars())


async def delete_credential(session: AsyncSession, *, credential: TotpCredential) -> None:
    """The credential (a loaded row) and the user's recovery codes."""
    await session.delete(credential)
    await session.execute(
        delete(RecoveryCode).where(RecoveryCode.user_id == credential.user_id),
        execution_options={"synchronize_session": False},
    )


async def replace_recovery_codes(
    session: AsyncSession, *, user_id: uuid.UUID, code_hashes: Sequence[str], now: datetime
) -> None:
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    session.add_all(
        RecoveryCode(id=uuid.uuid4(), user_id=user_id, code_hash=h, created_at=now)
        for h in code_hashes
    )


async def use_recovery_code(
    session: AsyncSession, *, user_id: uuid.UUID, code_hash: str, now: datetime
) -> bool:
    """Mark the user's unused code with this hash used; False when there is none."""
    result = await session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user_id,
            RecoveryCode.code_hash == code_hash,
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
        .returning(RecoveryCode.id),
        execution_options={"synchronize_session": False},
    )
    return result.scalar_one_or_none() is not None
