"""Recomputing the hash chain in batches (keyset pagination on `seq`): memory stays one batch
however many rows. The upper bound is the head read first, so rows appended meanwhile wait for the
next run; rows up to it never change (append-only), so each batch may be its own short statement.

A row is broken when its `seq` is not the next one (a row before it was deleted) or its hash is
not SHA-256(previous row's stored hash, its content) (its content changed, or its hash). The
first broken row is named; a missing tail (the head is further than the last row) is broken with
no row to name. The last row has no successor to betray a recomputed hash, so its hash must be
the head's `last_hash`; and a row past the head (slipped in with the triggers off: appends
move the head in the same transaction) is broken too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.context import DbAccess
from subgraphs.payments.ledger.chain import GENESIS, row_hash
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


async def _head(session: AsyncSession) -> tuple[int, str]:
    head = (
        await session.execute(
            select(LedgerHead.last_seq, LedgerHead.last_hash).where(LedgerHead.id == 1)
        )
    ).first()
    return (int(head.last_seq), str(head.last_hash)) if head is not None else (0, GENESIS)


async def _past_the_head(session: AsyncSession) -> uuid.UUID | None:
    """The first row beyond the head, read with the head in one snapshot (one statement)."""
    statement = (
        select(LedgerEntry.id)
        .join(LedgerHead, LedgerHead.id == 1)
        .where(LedgerEntry.seq > LedgerHead.last_seq)
        .order_by(LedgerEntry.seq)
        .limit(1)
    )
    found: uuid.UUID | None = await session.scalar(statement)
    return found


async def verify_ledger(*, db: DbAccess, batch_size: int = BATCH_SIZE) -> Verification:
    async with db() as session:
        last_seq, last_hash = await _head(session)
    previous, expected_seq, checked = GENESIS, 1, 0
    last_id: uuid.UUID | None = None
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
            if row.seq != expected_seq or row.hash != row_hash(previous, row):
                return Verification(ok=False, checked_entries=checked, first_broken_entry_id=row.id)
            previous, expected_seq, last_id = row.hash, expected_seq + 1, row.id
    if previous != last_hash:  # the last row rehashed after its content changed
        return Verification(ok=False, checked_entries=checked, first_broken_entry_id=last_id)
    async with db() as session:
        slipped = await _past_the_head(session)
    if slipped is not None:
        return Verification(ok=False, checked_entries=checked, first_broken_entry_id=slipped)
    return Verification(ok=True, checked_entries=checked)
