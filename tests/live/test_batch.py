"""The reads shared by a process's subscribers (`live/batch.py`, `live/reads.py`, batched slots):
one round trip per burst, answers never older than the lookup, the rules of each subscriber kept."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import event, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from shared.context import Principal, ensure_not_revoked, revoked_user_key
from shared.db import async_url, create_sessionmaker
from shared.errors import NotFound, Unauthenticated
from shared.scopes import Role
from subgraphs.payments import access
from subgraphs.payments.enums import PaymentStatus
from subgraphs.payments.live.batch import Batcher
from subgraphs.payments.live.reads import PaymentReads, RevocationReads
from subgraphs.payments.live.slots import UserSlots, slots_key
from subgraphs.payments.models import Payment
from tests.conftest import Infra
from tests.payments.factories import insert_payment


class Store:
    """A fetch over a dict whose calls are recorded; `gate` holds a fetch until it is set."""

    def __init__(self) -> None:
        self.values: dict[str, int] = {}
        self.calls: list[list[str]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.started = asyncio.Event()
        self.fail = False

    async def fetch(self, keys: Sequence[str]) -> dict[str, int]:
        self.calls.append(list(keys))
        snapshot = dict(self.values)  # what the fetch "reads", at its start
        self.started.set()
        await self.gate.wait()
        if self.fail:
            raise ConnectionError("down")
        return {key: snapshot[key] for key in keys if key in snapshot}


async def test_lookups_made_together_are_one_fetch_and_equal_keys_share_it() -> None:
    store = Store()
    store.values = {"a": 1, "b": 2}
    batcher: Batcher[str, int] = Batcher(store.fetch, default=0)
    answers = await asyncio.gather(*(batcher.get(key) for key in ("a", "a", "b", "unknown")))
    assert answers == [1, 1, 2, 0]  # a key the fetch leaves out gets the default
    assert store.calls == [["a", "b", "unknown"]]
    assert await batcher.get_many(["b", "a"]) == [2, 1]
    assert store.calls[1:] == [["b", "a"]]


async def test_a_lookup_never_joins_a_batch_already_in_flight() -> None:
    """Freshness: an answer is read after its lookup was made (a subscriber woken by an update
    gets a state at least as new as that update)."""
    store = Store()
    store.values = {"a": 1}
    store.gate.clear()
    batcher: Batcher[str, int] = Batcher(store.fetch, default=0)
    first = asyncio.create_task(batcher.get("a"))
    await store.started.wait()  # the first batch has read "a" = 1 and is in flight
    store.values["a"] = 2  # the change an update announces, committed after that read
    second = asyncio.create_task(batcher.get("a"))
    await asyncio.sleep(0)
    store.gate.set()
    assert await first == 1
    assert await second == 2  # read by a batch of its own, after the change
    assert store.calls == [["a"], ["a"]]


async def test_at_most_max_batch_keys_per_fetch() -> None:
    store = Store()
    store.values = {str(i): i for i in range(7)}
    batcher: Batcher[str, int] = Batcher(store.fetch, default=-1, max_batch=3)
    answers = await asyncio.gather(*(batcher.get(str(i)) for i in range(7)))
    assert answers == list(range(7))
    assert [len(call) for call in store.calls] == [3, 3, 1]


async def test_a_failed_fetch_fails_its_lookups_and_the_next_batch_works() -> None:
    store = Store()
    store.values = {"a": 1}
    store.fail = True
    batcher: Batcher[str, int] = Batcher(store.fetch, default=0)
    results = await asyncio.gather(batcher.get("a"), batcher.get("b"), return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results), results
    store.fail = False
    assert await batcher.get("a") == 1


async def test_a_lookup_given_up_leaves_the_batch_to_the_others() -> None:
    store = Store()
    store.values = {"a": 1}
    store.gate.clear()
    batcher: Batcher[str, int] = Batcher(store.fetch, default=0)
    leaving = asyncio.create_task(batcher.get("a"))
    staying = asyncio.create_task(batcher.get("a"))
    await store.started.wait()
    leaving.cancel()
    store.gate.set()
    assert await staying == 1
    with pytest.raises(asyncio.CancelledError):
        await leaving


# -- payments, revocations and slots against the real PostgreSQL and Redis ---------------------


@pytest.fixture
async def engine(infra: Infra) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(async_url(infra.database_url))
    try:
        yield engine
    finally:
        await engine.dispose()


def count_statements(engine: AsyncEngine, into: list[str]) -> None:
    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        into.append(statement.split()[0] + " " + statement.split("FROM ")[-1].split()[0])


def principal(role: Role, user_id: uuid.UUID | None = None) -> Principal:
    now = int(time.time())
    return Principal(
        id=user_id or uuid.uuid4(),
        email="x@example.com",
        role=role,
        scopes=frozenset({"payments:read"}),
        jti=uuid.uuid4().hex,
        issued_at=now,
        expires_at=now + 900,
        session_id=uuid.uuid4().hex,
    )


async def test_a_burst_of_reads_is_one_statement_and_each_reader_keeps_its_visibility(
    engine: AsyncEngine,
) -> None:
    payer, stranger = principal(Role.CUSTOMER), principal(Role.CUSTOMER)
    admin = principal(Role.ADMIN)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        first = await insert_payment(session, created_by=payer.id, transactions=2)
        second = await insert_payment(session, created_by=payer.id)
    reads = PaymentReads(create_sessionmaker(engine))
    statements: list[str] = []
    count_statements(engine, statements)
    burst = await asyncio.gather(
        reads.read(first.id),  # payer's subscription
        reads.read(first.id),  # admin's
        reads.read(first.id),  # a stranger's (refused at start in reality; the row rule holds)
        reads.read(second.id, history=True),
        reads.read(uuid.uuid4()),
    )
    # One statement for the payments and one for the one history asked for; no BEGIN/ROLLBACK.
    assert sorted(statements) == [
        "SELECT payments.payment_transactions",
        "SELECT payments.payments",
    ]
    assert [r.row.id if r.row else None for r in burst[:4]] == [first.id] * 3 + [second.id]
    assert burst[4].row is None
    assert burst[0].history is None
    history = burst[3].history
    assert history is not None
    assert [t.payment_id for t in history] == [second.id]
    assert access.require_visible(payer, burst[0].row) is burst[0].row
    assert access.require_visible(admin, burst[1].row) is burst[1].row
    with pytest.raises(NotFound):
        access.require_visible(stranger, burst[2].row)
    with pytest.raises(NotFound):
        access.require_visible(admin, burst[4].row)  # unknown: NOT_FOUND for everyone

    # A read made after a commit sees it.
    async with AsyncSession(engine) as session, session.begin():
        await session.execute(
            update(Payment).where(Payment.id == first.id).values(status=PaymentStatus.PROCESSING)
        )
    again = await reads.read(first.id)
    assert again.row is not None
    assert again.row.status == PaymentStatus.PROCESSING


async def test_revocation_checks_made_together_are_one_mget_and_still_refuse(
    redis: Redis,
) -> None:
    alive, revoked = principal(Role.CUSTOMER), principal(Role.CUSTOMER)
    await redis.set(revoked_user_key(revoked.id), int(time.time()) + 1, ex=60)
    calls: list[int] = []
    original = redis.mget

    async def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return await original(*args, **kwargs)

    redis.mget = counted  # type: ignore[method-assign]
    revocations: Any = RevocationReads(redis)
    results = await asyncio.gather(
        *(ensure_not_revoked(alive, revocations) for _ in range(20)),
        ensure_not_revoked(revoked, revocations),
        return_exceptions=True,
    )
    assert results[:20] == [None] * 20
    assert isinstance(results[20], Unauthenticated)
    assert len(calls) == 1


async def test_concurrent_slot_acquisitions_keep_the_limit_across_replicas(redis: Redis) -> None:
    user, other = uuid.uuid4(), uuid.uuid4()
    replica_a = UserSlots(redis, limit=5, ttl_seconds=30.0)
    replica_b = UserSlots(redis, limit=5, ttl_seconds=30.0)
    slots = await asyncio.gather(
        *(replica.acquire(user) for replica in (replica_a, replica_b) for _ in range(12)),
        replica_a.acquire(other),
    )
    granted = [slot for slot in slots[:-1] if slot is not None]
    assert len(granted) == 5
    assert slots[-1] is not None  # another user is unaffected
    # Released together, given back together.
    await asyncio.gather(*(replica_a.release(user, slot) for slot in granted))
    again = await asyncio.gather(*(replica_b.acquire(user) for _ in range(6)))
    assert sum(slot is not None for slot in again) == 5


async def test_a_slot_taken_for_a_start_that_gave_up_is_given_back(redis: Redis) -> None:
    """The start gave up (its timeout, or the subscription ended) while its acquisition was
    queued or in flight: the acquisition still reaches Redis, and the slot it took is released
    once it is known, instead of counting against the user until its TTL."""
    user = uuid.uuid4()
    slots = UserSlots(redis, limit=5, ttl_seconds=600.0)
    starts = [asyncio.ensure_future(slots.acquire(user)) for _ in range(3)]
    await asyncio.sleep(0)  # the acquisitions are queued in the batch
    for start in starts:
        start.cancel()
    await asyncio.gather(*starts, return_exceptions=True)
    # Batches run one after the other: this start is answered after theirs reached Redis.
    kept = await slots.acquire(user)  # a start that waits keeps its slot
    assert kept is not None
    async with asyncio.timeout(30):
        while await redis.zcard(slots_key(user)) != 1:
            await asyncio.sleep(0.02)
    assert await redis.zscore(slots_key(user), kept) is not None
