"""Appending to the ledger's hash chain, and the canonical content a row's hash covers.

A writer locks the single `ledger_head` row (`SELECT ... FOR UPDATE`) in its own transaction,
numbers its rows `last_seq + 1, ...`, chains each `hash = SHA-256(previous hash || "\\n" ||
canonical(row))` and moves the head. Concurrent writers queue on that row lock until the first
commits, so the chain cannot fork (and `seq` is unique besides); a writer that rolls back leaves
the head where it was. The lock is held from the first ledger write to COMMIT: what the
transaction wrote before is flushed first, and the rest of such a transaction is short (a
payment's status change).

Balance is checked here (per currency, debits = credits) and again by the database at COMMIT (a
deferred constraint trigger), so a bug here cannot store an unbalanced transaction.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.payments.models import LedgerEntry, LedgerHead

GENESIS = "0" * 64
DEBIT = "DEBIT"
CREDIT = "CREDIT"


@dataclass(frozen=True, slots=True)
class Leg:
    """One side of a movement before it is written: `amount_minor` > 0 is a DEBIT of `account`,
    < 0 a CREDIT (legs of 0 are not written)."""

    account: str
    amount_minor: int
    kind: str


class UnbalancedPosting(ValueError):
    """Legs whose debits and credits differ: a bug, never written."""


def canonical(
    *,
    seq: int,
    id: uuid.UUID,
    txn_id: uuid.UUID,
    payment_id: uuid.UUID | None,
    refund_id: uuid.UUID | None,
    account: str,
    direction: str,
    amount_minor: int,
    currency: str,
    kind: str,
    created_at: datetime,
) -> str:
    """The content a row's hash covers, as one unambiguous line (`|` cannot occur in a field:
    ids are UUIDs, accounts and kinds are ours, timestamps ISO-8601 UTC to the microsecond)."""
    return "|".join(
        (
            str(seq),
            str(id),
            str(txn_id),
            str(payment_id or ""),
            str(refund_id or ""),
            account,
            direction,
            str(amount_minor),
            currency,
            kind,
            created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        )
    )


def chain_hash(previous: str, content: str) -> str:
    return hashlib.sha256(f"{previous}\n{content}".encode()).hexdigest()


def row_hash(previous: str, row: LedgerEntry | Row[*tuple[Any, ...]]) -> str:
    """What `row.hash` must be, given the previous row's hash (an entry, or a Core row of its
    columns: `verify.py` reads those without ORM instances)."""
    return chain_hash(
        previous,
        canonical(
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
        ),
    )


async def append(
    *,
    session: AsyncSession,
    legs: Sequence[Leg],
    currency: str,
    now: datetime,
    payment_id: uuid.UUID | None = None,
    refund_id: uuid.UUID | None = None,
) -> list[LedgerEntry]:
    """Write one balanced ledger transaction in the caller's (open) transaction; flushes, never
    commits. Returns the rows written, in chain order."""
    imbalance = sum(leg.amount_minor for leg in legs)
    if imbalance:
        raise UnbalancedPosting(f"ledger legs do not balance by {imbalance} {currency}")
    written = [leg for leg in legs if leg.amount_minor != 0]
    if not written:
        return []
    # Everything else the transaction wrote so far goes first: the head's lock is then held only
    # for the ledger rows, the head and what follows them to COMMIT.
    await session.flush()
    head = await session.scalar(
        select(LedgerHead)
        .where(LedgerHead.id == 1)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if head is None:  # pragma: no cover - the migration inserts it
        raise RuntimeError("ledger_head is missing")
    created_at = now.astimezone(UTC)
    txn_id = uuid.uuid4()
    previous, seq = head.last_hash, head.last_seq
    rows: list[LedgerEntry] = []
    for leg in written:
        seq += 1
        row = LedgerEntry(
            id=uuid.uuid4(),
            seq=seq,
            txn_id=txn_id,
            payment_id=payment_id,
            refund_id=refund_id,
            account=leg.account,
            direction=DEBIT if leg.amount_minor > 0 else CREDIT,
            amount_minor=abs(leg.amount_minor),
            currency=currency,
            kind=leg.kind,
            created_at=created_at,
            hash="",
        )
        row.hash = previous = row_hash(previous, row)
        rows.append(row)
    session.add_all(rows)
    head.last_seq, head.last_hash = seq, previous
    await session.flush()  # one flush for the rows and the head: the lock is held until COMMIT
    return rows
