"""Reconciling a day of the ledger with Razorpay's lists (the simulator's `GET /v1/payments` and
`/v1/refunds`, Razorpay's collection shape, paged with count/skip and filtered by from/to), in a
database and a simulator of their own."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import httpx
import pytest
import razorpay
from redis.asyncio import Redis
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.config import PaymentsSettings, payments_settings
from shared.lifetime import Resources
from subgraphs.payments import sync
from subgraphs.payments.enums import PaymentStatus
from subgraphs.payments.models import LedgerEntry, Refund
from subgraphs.payments.provider.razorpay import RazorpayGateway
from subgraphs.payments.reconciliation.ledger import (
    LOCK_KEY,
    LedgerReconcilerTask,
    main,
    reconcile_ledger_day,
)
from subgraphs.payments.refunds.service import send_refund, with_our_key
from subgraphs.payments.simulator import SimulatorSettings
from subgraphs.payments.simulator import create_app as create_simulator
from tests.conftest import Infra
from tests.ledger.support import simulator_gateway
from tests.payments.factories import insert_payment
from tests.simulator.support import KEY_ID, KEY_SECRET, WEBHOOK_SECRET, ServerThread


@pytest.fixture
def sim() -> Iterator[ServerThread]:
    settings = SimulatorSettings(
        key_id=KEY_ID, key_secret=KEY_SECRET, webhook_secret=WEBHOOK_SECRET, webhook_urls=[]
    )
    server = ServerThread(create_simulator(settings)).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def gateway(sim: ServerThread, infra: Infra) -> AsyncIterator[RazorpayGateway]:
    client = simulator_gateway(infra, sim.url)
    try:
        yield client
    finally:
        client.close()


def paid(sim: ServerThread, amount: int) -> tuple[str, str]:
    """An order paid at the simulator: (order id, Razorpay payment id)."""
    rzp = razorpay.Client(auth=(KEY_ID, KEY_SECRET), base_url=sim.url)
    try:
        order = rzp.order.create({"amount": amount, "currency": "INR", "receipt": "r"})
    finally:
        rzp.session.close()
    answer = httpx.post(f"{sim.url}/_sim/orders/{order['id']}/pay", json={"method": "card"})
    assert answer.status_code == 200, answer.text
    return order["id"], answer.json()["razorpay_payment_id"]


async def booked(
    maker: async_sessionmaker[AsyncSession],
    gateway: RazorpayGateway,
    sim: ServerThread,
    amount: int,
) -> tuple[uuid.UUID, str]:
    order_id, provider_id = await asyncio.to_thread(paid, sim, amount)
    async with maker() as session:
        row = await insert_payment(
            session,
            created_by=uuid.uuid4(),
            payee_id=uuid.uuid4(),
            status=PaymentStatus.PROCESSING,
            amount_minor=amount,
            order_id=order_id,
        )
        seen = await gateway.fetch_payment(provider_id)
        await sync.apply_provider_payment(session=session, payment=seen, source="test")
        await session.commit()
        return row.id, provider_id


async def ledger_rows(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(LedgerEntry)) or 0)


async def mismatch_events(engine: AsyncEngine) -> list[dict[str, object]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT data FROM payments.outbox_events WHERE type = 'payments:ledger:mismatch'")
        )
        return [r[0] for r in rows]


async def test_list_endpoints_page_and_filter(sim: ServerThread, gateway: RazorpayGateway) -> None:
    for amount in (10_000, 20_000, 30_000):
        await asyncio.to_thread(paid, sim, amount)
    now = int(time.time())
    first = await gateway.list_payments(start=now - 3600, end=now + 60, count=2)
    second = await gateway.list_payments(start=now - 3600, end=now + 60, count=2, skip=2)
    assert len(first) == 2
    assert len(second) == 1
    assert {p.amount_minor for p in first + second} == {10_000, 20_000, 30_000}
    assert await gateway.list_payments(start=now + 3600, end=now + 7200) == []
    raw = httpx.get(f"{sim.url}/v1/payments", params={"count": 1}, auth=(KEY_ID, KEY_SECRET))
    assert raw.json()["entity"] == "collection"
    assert raw.json()["count"] == 1
    assert raw.json()["items"][0]["entity"] == "payment"
    bad = httpx.get(f"{sim.url}/v1/refunds", params={"from": "x"}, auth=(KEY_ID, KEY_SECRET))
    assert bad.status_code == 400
    assert httpx.get(f"{sim.url}/v1/refunds").status_code == 401


async def test_a_matching_day_then_mismatches_reported_never_edited(
    own_ledger: AsyncEngine,
    own_ledger_url: str,
    gateway: RazorpayGateway,
    sim: ServerThread,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    maker = async_sessionmaker(own_ledger, expire_on_commit=False)
    await booked(maker, gateway, sim, 50_000)
    refunded_id, provider_id = await booked(maker, gateway, sim, 80_000)
    async with maker() as session:
        row = Refund(
            id=uuid.uuid4(),
            payment_id=refunded_id,
            amount_minor=30_000,
            currency="INR",
            status="PENDING",
            idempotency_key=f"rfd_{uuid.uuid4().hex}",
            created_at=datetime.now(UTC),
            updated_at=datetime.now(UTC),
        )
        session.add(row)
        await session.commit()
        answer = await send_refund(gateway, row, provider_id)
        await sync.apply_provider_refund(
            session=session, refund=with_our_key(answer, row), source="test"
        )
        await session.commit()
    today = datetime.now(UTC).date()
    clean = await reconcile_ledger_day(sessionmaker=maker, client=gateway, day=today)
    assert (clean.payments_seen, clean.refunds_seen, clean.mismatches) == (2, 1, [])

    # Razorpay captured a payment the ledger never heard of.
    _, unknown = await asyncio.to_thread(paid, sim, 12_345)
    rows_before = await ledger_rows(own_ledger)
    found = await reconcile_ledger_day(sessionmaker=maker, client=gateway, day=today)
    assert [(m.kind, m.provider_id, m.ours_minor, m.razorpay_minor) for m in found.mismatches] == [
        ("capture_missing", unknown, 0, 12_345)
    ]
    assert await ledger_rows(own_ledger) == rows_before  # nothing edited or added
    events = await mismatch_events(own_ledger)
    assert [(e["mismatch"], e["razorpayId"]) for e in events] == [("capture_missing", unknown)]

    # The CLI reports the same and exits 1 (against this database and simulator).
    env = {
        "APP_ENV": "test",
        "DATABASE_URL": own_ledger_url,
        "RAZORPAY_KEY_ID": KEY_ID,
        "RAZORPAY_KEY_SECRET": KEY_SECRET,
        "RAZORPAY_API_BASE_URL": sim.url,
    }
    for name, value in env.items():
        monkeypatch.setitem(os.environ, name, value)
    payments_settings.cache_clear()
    try:
        code = await asyncio.to_thread(main, ["--day", today.isoformat()])
    finally:
        payments_settings.cache_clear()
    out = capsys.readouterr().out
    assert code == 1
    assert out.startswith(f"ledger {today.isoformat()}: 3 Razorpay payment(s), 1 refund(s), 1 ")
    assert f"capture_missing {unknown}: ours 0, razorpay 12345 INR" in out


async def test_the_daily_job_runs_on_one_replica(
    own_ledger: AsyncEngine, gateway: RazorpayGateway, sim: ServerThread, redis: Redis
) -> None:
    settings = PaymentsSettings(app_env="test", ledger_reconcile_interval_seconds=0)
    task = LedgerReconcilerTask(gateway, settings)
    maker = async_sessionmaker(own_ledger, expire_on_commit=False)
    await task.start(
        Resources(settings=settings, engine=own_ledger, sessionmaker=maker, redis=redis)
    )
    try:
        await redis.set(LOCK_KEY, "another replica", px=60_000)
        assert await task.run_once() is None
        await redis.delete(LOCK_KEY)
        report = await task.run_once(datetime.now(UTC).date())
        assert report is not None
        assert (report.payments_seen, report.mismatches) == (0, [])
        assert await redis.get(LOCK_KEY) is None  # released
    finally:
        await task.stop()
