"""SQL for the ledger (reads; rows are written only by `chain.append`). No business rules."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.payments.ledger.chain import DEBIT
from subgraphs.payments.models import LedgerEntry


def signed_debit() -> object:
    """amount_minor as a debit-positive signed value."""
    return case(
        (LedgerEntry.direction == DEBIT, LedgerEntry.amount_minor), else_=-LedgerEntry.amount_minor
    )


async def entries_for_payments(
    *, session: AsyncSession, payment_ids: Sequence[uuid.UUID]
) -> Sequence[LedgerEntry]:
    statement = (
        select(LedgerEntry).where(LedgerEntry.payment_id.in_(payment_ids)).order_by(LedgerEntry.seq)
    )
    return (await session.scalars(statement)).all()


async def entries_for_refund(
    *, session: AsyncSession, refund_id: uuid.UUID, kind: str
) -> Sequence[LedgerEntry]:
    statement = (
        select(LedgerEntry)
        .where(LedgerEntry.refund_id == refund_id, LedgerEntry.kind == kind)
        .order_by(LedgerEntry.seq)
    )
    return (await session.scalars(statement)).all()


async def account_debits(
    *, session: AsyncSession, payment_id: uuid.UUID, account: str, kinds: Sequence[str]
) -> int:
    """Debits minus credits of one account for one payment, over rows of `kinds`."""
    statement = select(func.coalesce(func.sum(signed_debit()), 0)).where(
        LedgerEntry.payment_id == payment_id,
        LedgerEntry.account == account,
        LedgerEntry.kind.in_(kinds),
    )
    return int(await session.scalar(statement) or 0)
