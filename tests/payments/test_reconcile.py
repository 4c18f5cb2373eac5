"""reconciliation/ (sweep, periodic task, CLI): stuck payments and refunds, applied."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from datetime import timedelta

import pytest
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.config import PaymentsSettings, payments_settings
from shared.db import create_sessionmaker
from subgraphs.payments.models import Payment, Refund
from subgraphs.payments.provider.circuit import CircuitBreaker
from subgraphs.payments.provider.razorpay import RazorpayGateway
from subgraphs.payments.reconciliation.__main__ import main, parse_duration
from subgraphs.payments.reconciliation.periodic import LOCK_KEY, Reconciler
from subgraphs.payments.reconciliation.sweep import reconcile
from tests.conftest import Infra
from tests.helpers import Subgraph, error_codes, wait_until
from tests.payments.shop import PAYMENT, REFUND, customer_payment, paid, start, transactions
from tests.simulator.support import KEY_ID, KEY_SECRET, Sim

NOW = timedelta(0)


def client(sim: Sim, **breaker: float) -> RazorpayGateway:
    return RazorpayGateway(
        key_id=KEY_ID,
        key_secret=KEY_SECRET,
        base_url=sim.url,
        timeout_s=1.0,
        max_attempts=2,
        retry_backoff_s=0.0,
        breaker=CircuitBreaker(
            name="t",
            failure_threshold=int(breaker.get("threshold", 50)),
            reset_timeout_s=breaker.get("cooldown", 30.0),
        ),
    )


async def status(shop: Subgraph, caller: object, payment_id: str) -> str:
    data = await shop.ok(PAYMENT, {"id": payment_id}, as_=caller)  # type: ignore[arg-type]
    return str(data["payment"]["status"])


async def test_failure_then_late_capture(
    shop: Subgraph, simulator: Sim, committed_engine: AsyncEngine
) -> None:
    maker = create_sessionmaker(committed_engine)
    customer, _, payment_id = await customer_payment(shop)
    order_id = (await start(shop, customer, payment_id))["razorpayOrderId"]
    failed = simulator.http.post(f"/_sim/orders/{order_id}/pay", json={"outcome": "failure"})
    provider_payment_id = failed.json()["error"]["metadata"]["payment_id"]
    recent = await reconcile(
        sessionmaker=maker, client=client(simulator), older_than=timedelta(hours=1), limit=1000
    )
    assert payment_id not in recent.payment_ids  # not stuck long enough yet
    first = await reconcile(
        sessionmaker=maker, client=client(simulator), older_than=NOW, limit=1000
    )
    assert payment_id in first.payment_ids
    assert await status(shop, customer, payment_id) == "FAILED"

    late = simulator.http.post(f"/_sim/payments/{provider_payment_id}/authorize-late")
    assert late.json()["status"] == "captured"
    second = await reconcile(
        sessionmaker=maker, client=client(simulator), older_than=NOW, limit=1000
    )
    assert payment_id in second.payment_ids
    assert "captured" not in second.summary()
    assert await status(shop, customer, payment_id) == "COMPLETED"
    third = await reconcile(
        sessionmaker=maker, client=client(simulator), older_than=NOW, limit=1000
    )
    assert payment_id not in third.payment_ids  # COMPLETED is no longer a candidate
    changes = [r.to_status for r in await transactions(shop.engine, payment_id)]
    assert changes.count("COMPLETED") == 1
    async with maker() as session:
        row = await session.get(Payment, payment_id)
        assert row is not None
        assert row.last_reconciled_at is not None


async def test_unanswered_refund_is_finished(
    shop: Subgraph, simulator: Sim, faults: Callable[..., None], committed_engine: AsyncEngine
) -> None:
    maker = create_sessionmaker(committed_engine)
    _, vendor, payment_id = await paid(shop, simulator, "40.00")
    faults("error500", count=None, path_prefix="/v1/payments/")
    lost = await shop.gql(REFUND, {"id": payment_id, "amount": "15.00"}, as_=vendor)
    assert error_codes(lost) == ["PAYMENT_PROVIDER_ERROR"]
    faults("none")
    report = await reconcile(
        sessionmaker=maker, client=client(simulator), older_than=NOW, limit=1000
    )
    assert report.refunds_applied >= 1
    async with maker() as session:
        refunds = (
            await session.scalars(select(Refund).where(Refund.payment_id == payment_id))
        ).all()
        assert [(r.status, r.amount_minor) for r in refunds] == [("PROCESSED", 1500)]
        row = await session.get(Payment, payment_id)
        assert row is not None
        assert (row.status, row.amount_refunded_minor) == ("PARTIALLY_REFUNDED", 1500)


async def test_an_open_circuit_ends_the_pass(
    shop: Subgraph, simulator: Sim, faults: Callable[..., None], committed_engine: AsyncEngine
) -> None:
    customer, _, payment_id = await customer_payment(shop)
    await start(shop, customer, payment_id)
    faults("error500", count=None)
    report = await reconcile(
        sessionmaker=create_sessionmaker(committed_engine),
        client=client(simulator, threshold=1),
        older_than=NOW,
        limit=1000,
    )
    assert (report.errors, report.examined) == (1, 0)


async def test_periodic_task_takes_the_lock(
    shop: Subgraph,
    simulator: Sim,
    shop_settings: PaymentsSettings,
    committed_engine: AsyncEngine,
    redis: Redis,
) -> None:
    settings = shop_settings.model_copy(
        update={"reconcile_interval_seconds": 0.05, "reconcile_older_than_seconds": 0.0}
    )
    reconciler = Reconciler(
        sessionmaker=create_sessionmaker(committed_engine),
        redis=redis,
        gateway=client(simulator),
        settings=settings,
    )
    await redis.set(LOCK_KEY, "another-replica", px=10_000)
    assert await reconciler.run_once() is None
    await redis.delete(LOCK_KEY)
    assert await reconciler.run_once() is not None
    assert await redis.get(LOCK_KEY) is None  # released

    customer, _, payment_id = await customer_payment(shop)
    order_id = (await start(shop, customer, payment_id))["razorpayOrderId"]
    simulator.pay(order_id)  # captured at Razorpay; nobody tells us
    reconciler.start()
    try:

        async def completed() -> bool:
            return await status(shop, customer, payment_id) == "COMPLETED"

        await wait_until(completed)
    finally:
        await reconciler.stop()
    assert await status(shop, customer, payment_id) == "COMPLETED"


def test_parse_duration() -> None:
    assert parse_duration("15m") == timedelta(minutes=15)
    assert parse_duration("90") == parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration("2h") == timedelta(hours=2)
    assert parse_duration("7d") == timedelta(days=7)
    with pytest.raises(argparse.ArgumentTypeError, match="not a duration"):
        parse_duration("soon")


def test_cli_prints_a_summary(
    infra: Infra,
    simulator: Sim,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = {
        "APP_ENV": "test",
        "DATABASE_URL": infra.database_url,
        "RAZORPAY_KEY_ID": KEY_ID,
        "RAZORPAY_KEY_SECRET": KEY_SECRET,
        "RAZORPAY_API_BASE_URL": simulator.url,
    }
    for name, value in env.items():
        monkeypatch.setitem(os.environ, name, value)
    payments_settings.cache_clear()
    try:
        code = main(["--older-than", "0s", "--limit", "5"])
    finally:
        payments_settings.cache_clear()
    out = capsys.readouterr().out
    assert out.startswith("reconciled ")
    assert "pending refund(s)" in out
    assert code in (0, 1)
