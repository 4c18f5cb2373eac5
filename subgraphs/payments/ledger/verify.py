"""Recomputing the hash chain in batches (keyset pagination on `seq`): memory stays one batch
however many rows. The upper bound is the head read first, so rows appended meanwhile wait for the
next run; rows up to it never change (append-only), so each batch may be its own short statement.

A row is broken when its `seq` is not the next one (a row before it was deleted) or its hash is
not SHA-256(previous row's stored hash, its content) (its content changed, or its hash). The
first broken row is named; a missing tail (the head is further than the last row) is broken with
no row to name.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.context import DbAccess
from subgraphs.payments.ledger.chain import GENESIS, canonical, chain_hash
from subgraphs.payments.models import LedgerEntry, LedgerHead

BATCH_SIZE = 1000

_COLUMNS = (
    LedgerEntry.seq,
    LedgerEntry.id,
    LedgerEntry.txn_id,
    LedgerEntry.payment_id,
    LedgerEntry.refund_id,
    LedgerEntry.account,
    LedgerEntry.direction,
    LedgerEntry.amount_minor,
    LedgerEntry.currency,
    LedgerEntry.kind,
    LedgerEntry.created_at,
    LedgerEntry.hash,
)


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    checked_entries: int
    first_broken_entry_id: uuid.UUID | None = None


async def _head_seq(session: AsyncSession) -> int:
    return int(await session.scalar(select(LedgerHead.last_seq).where(LedgerHead.id == 1)) or 0)


async def verify_ledger(*, db: DbAccess, batch_size: int = BATCH_SIZE) -> Verification:
    async with db() as session:
        last_seq = await _head_seq(session)
    previous, expected_seq, checked = GENESIS, 1, 0
    while expected_seq <= last_seq:
        async with db() as session:
            rows = (
                await session.execute(
                    select(*_COLUMNS)
                    .where(LedgerEntry.seq >= expected_seq, LedgerEntry.seq <= last_seq)
                    .order_by(LedgerEntry.seq)
                    .limit(batch_size)
                )
            ).all()
        if not rows:
            return Verification(ok=False, checked_entries=checked)
        for row in rows:
            checked += 1
            content = canonical(
                seq=row.seq,
                id=row.id,
                txn_id=row.txn_id,
                payment_id=row.payment_id,
                refund_id=row.refund_id,
                account=row.account,
                direction=row.direction,
                amount_minor=row.amount_minor,
                currency=row.currency,
                kind=row.kind,
                created_at=row.created_at,
            )
            if row.seq != expected_seq or row.hash != chain_hash(previous, content):
                return Verification(ok=False, checked_entries=checked, first_broken_entry_id=row.id)
            previous, expected_seq = row.hash, expected_seq + 1
    return Verification(ok=True, checked_entries=checked)
