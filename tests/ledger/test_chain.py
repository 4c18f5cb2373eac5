"""The chain under concurrent writers, the database's balance check, and verifyLedger naming a
row changed behind the application's back (in a database of its own: a broken chain there
cannot upset other tests)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
)

from subgraphs.payments.ledger.chain import Leg, UnbalancedPosting, append, canonical, chain_hash
from subgraphs.payments.ledger.verify import verify_ledger
from subgraphs.payments.models import OutboxEvent
from tests.ledger.support import assert_chained


def movement(amount: int) -> list[Leg]:
    return [
        Leg("razorpay_clearing", amount, "capture"),
        Leg("platform_revenue", -amount, "capture"),
    ]


async def write(maker: async_sessionmaker[AsyncSession], amount: int) -> None:
    async with maker() as session:
        await append(session=session, legs=movement(amount), currency="INR", now=datetime.now(UTC))
        await session.commit()


async def test_concurrent_writers_never_fork_the_chain(committed_engine: AsyncEngine) -> None:
    maker = async_sessionmaker(committed_engine, expire_on_commit=False)
    await asyncio.gather(*(write(maker, 100 + i) for i in range(12)))
    async with maker() as session:
        assert await assert_chained(session) >= 24
    result = await verify_ledger(db=maker, batch_size=7)
    assert result.ok
    assert result.first_broken_entry_id is None


async def test_unbalanced_legs_are_refused_before_and_by_the_database(
    committed_engine: AsyncEngine,
) -> None:
    maker = async_sessionmaker(committed_engine, expire_on_commit=False)
    async with maker() as session:
        with pytest.raises(UnbalancedPosting):
            await append(
                session=session,
                legs=[Leg("razorpay_clearing", 100, "capture"), Leg("platform_revenue", -99, "x")],
                currency="INR",
                now=datetime.now(UTC),
            )
    # Written around chain.append: the deferred constraint trigger refuses it at COMMIT.
    async with committed_engine.connect() as conn:
        await conn.execute(
            text(
                "INSERT INTO payments.ledger_entries (id, seq, txn_id, account, direction, "
                "amount_minor, currency, kind, created_at, hash) VALUES (:id, :seq, :txn, "
                "'razorpay_clearing', 'DEBIT', 100, 'INR', 'capture', now(), :h)"
            ),
            {
                "id": uuid.uuid4(),
                "seq": 10**15 + uuid.uuid4().int % 10**9,
                "txn": uuid.uuid4(),
                "h": "0" * 64,
            },
        )
        with pytest.raises(DBAPIError, match="does not balance"):
            await conn.commit()


async def tamper(engine: AsyncEngine, statement: str, **params: object) -> None:
    """As the superuser, with triggers off (`session_replication_role = replica`)."""
    async with engine.begin() as conn:
        await conn.execute(text("SET LOCAL session_replication_role = replica"))
        await conn.execute(text(statement), params)


async def test_verify_names_the_changed_row(own_ledger: AsyncEngine) -> None:
    maker = async_sessionmaker(own_ledger, expire_on_commit=False)
    for amount in range(1, 8):
        await write(maker, amount * 100)
    assert await verify_ledger(db=maker, batch_size=3) == type(await verify_ledger(db=maker))(
        ok=True, checked_entries=14
    )
    async with own_ledger.connect() as conn:
        target = (await conn.execute(text(
            "SELECT id FROM payments.ledger_entries WHERE seq = 9"))).scalar_one()  # fmt: skip
    await tamper(own_ledger, "UPDATE payments.ledger_entries SET amount_minor = 1 WHERE id = :i",
                 i=target)  # fmt: skip
    result = await verify_ledger(db=maker, batch_size=4)
    assert (result.ok, result.first_broken_entry_id, result.checked_entries) == (False, target, 9)


async def test_verify_names_the_row_after_a_deleted_one(own_ledger: AsyncEngine) -> None:
    maker = async_sessionmaker(own_ledger, expire_on_commit=False)
    for amount in range(1, 4):
        await write(maker, amount * 100)
    async with own_ledger.connect() as conn:
        after = (await conn.execute(text(
            "SELECT id FROM payments.ledger_entries WHERE seq = 4"))).scalar_one()  # fmt: skip
    await tamper(own_ledger, "DELETE FROM payments.ledger_entries WHERE seq = 3")
    result = await verify_ledger(db=maker, batch_size=2)
    assert (result.ok, result.first_broken_entry_id) == (False, after)
    # A missing tail: the head is further than the last row; nothing to name.
    await tamper(own_ledger, "DELETE FROM payments.ledger_entries WHERE seq >= 4")
    tail = await verify_ledger(db=maker)
    assert (tail.ok, tail.first_broken_entry_id, tail.checked_entries) == (False, None, 2)


async def test_verify_catches_a_rehashed_last_row(own_ledger: AsyncEngine) -> None:
    """The last row has no successor to betray it: its hash is checked against the head's."""
    maker = async_sessionmaker(own_ledger, expire_on_commit=False)
    for amount in range(1, 3):
        await write(maker, amount * 100)
    async with own_ledger.connect() as conn:
        rows = (await conn.execute(text(
            "SELECT seq, id, txn_id, payment_id, refund_id, account, direction, amount_minor,"
            " currency, kind, created_at, hash FROM payments.ledger_entries"
            " ORDER BY seq DESC LIMIT 2"))).all()  # fmt: skip
    last, previous = rows
    # A forger who knows the (public) hash function changes the amount and recomputes the hash.
    forged = chain_hash(previous.hash, canonical(**{
        **{k: v for k, v in last._mapping.items() if k != "hash"}, "amount_minor": 1}))  # fmt: skip
    await tamper(own_ledger, "UPDATE payments.ledger_entries SET amount_minor = 1, hash = :h "
                 "WHERE id = :i", i=last.id, h=forged)  # fmt: skip
    result = await verify_ledger(db=maker)
    assert (result.ok, result.first_broken_entry_id) == (False, last.id)


async def test_verify_catches_a_row_slipped_in_past_the_head(own_ledger: AsyncEngine) -> None:
    maker = async_sessionmaker(own_ledger, expire_on_commit=False)
    await write(maker, 100)
    await tamper(
        own_ledger,
        "INSERT INTO payments.ledger_entries (id, seq, txn_id, account, direction, amount_minor,"
        " currency, kind, created_at, hash) SELECT gen_random_uuid(), seq + 1, txn_id, account,"
        " direction, amount_minor, currency, kind, created_at, hash"
        " FROM payments.ledger_entries ORDER BY seq DESC LIMIT 1",
    )
    last = "SELECT id FROM payments.ledger_entries ORDER BY seq DESC LIMIT 1"
    async with own_ledger.connect() as conn:
        slipped = (await conn.execute(text(last))).scalar_one()
    result = await verify_ledger(db=maker)
    assert (result.ok, result.first_broken_entry_id) == (False, slipped)


async def test_the_head_is_locked_after_the_rest_of_the_transaction_is_written(
    db_session: AsyncSession,
) -> None:
    """The head's lock serialises every ledger writer until COMMIT: what the transaction wrote
    before its ledger rows (a status change, its history, its event) is sent first, so only the
    ledger rows and the head are written while it is held."""
    statements: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(" ".join(statement.split()))

    engine = db_session.bind.engine  # type: ignore[union-attr]
    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        with db_session.no_autoflush:  # as the services' sessions (shared.db)
            db_session.add(OutboxEvent(type="payments:test", data={}))
            await append(
                session=db_session, legs=movement(100), currency="INR", now=datetime.now(UTC)
            )
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    locked = next(i for i, s in enumerate(statements) if "ledger_head" in s and "FOR UPDATE" in s)
    assert any("INSERT INTO payments.outbox_events" in s for s in statements[:locked])
    after = [" ".join(s.split()[:3]) for s in statements[locked + 1 :]]
    assert after == ["INSERT INTO payments.ledger_entries", "UPDATE payments.ledger_head SET"]
