"""Driven by the simulator's signed webhooks (real HTTP to the sidecar): a capture for a
CANCELLED payment is refunded automatically through the refund path, and a processed refund that
later fails re-opens the payment with a reversing ledger entry."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
import razorpay
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from shared.context import Principal
from shared.db import async_url
from shared.scopes import Role, scopes_for
from subgraphs.payments.enums import PaymentStatus
from subgraphs.payments.models import LedgerEntry, OutboxEvent, Payment, Refund
from subgraphs.payments.provider.razorpay import RazorpayGateway
from subgraphs.payments.reconciliation.sweep import reconcile
from subgraphs.payments.refunds.service import refund_payment
from subgraphs.payments.simulator import SimulatorSettings
from subgraphs.payments.simulator import create_app as create_simulator
from subgraphs.payments.webhooks.app import create_app as create_sidecar
from tests.conftest import Infra
from tests.ledger.support import assert_balanced, signed, simulator_gateway
from tests.simulator.support import KEY_ID, KEY_SECRET, ServerThread
from tests.webhooks.conftest import Db, MakeSettings
from tests.webhooks.factories import SECRET, insert_payment


@dataclass
class Stack:
    sim: httpx.Client
    rzp: razorpay.Client
    gateway: RazorpayGateway
    maker: async_sessionmaker[AsyncSession]
    database_url: str
    since: datetime

    def pay(self, order_id: str, **body: object) -> dict[str, object]:
        answer = self.sim.post(f"/_sim/orders/{order_id}/pay", json={"method": "card", **body})
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def settle(self) -> None:
        """Every delivery answered, and every event it stored applied by the worker."""
        assert self.sim.post("/_sim/deliveries/wait", json={"timeout_s": 30}).json() == {
            "pending": 0
        }
        asyncio.run(self.applied())

    async def applied(self) -> None:
        engine = create_async_engine(async_url(self.database_url))
        try:
            await Db(engine).settled(self.since)
        finally:
            await engine.dispose()


@pytest.fixture
def stack(
    make_settings: MakeSettings, infra: Infra, committed_engine: AsyncEngine
) -> Iterator[Stack]:
    sidecar = ServerThread(create_sidecar(make_settings())).start()
    simulator = ServerThread(
        create_simulator(
            SimulatorSettings(
                app_env="test",
                key_id=KEY_ID,
                key_secret=KEY_SECRET,
                webhook_secret=SECRET,
                webhook_urls=[f"{sidecar.url}/webhooks/razorpay"],
                webhook_backoff_base_s=0.05,
                webhook_backoff_max_s=0.2,
            )
        )
    ).start()
    gateway = simulator_gateway(infra, simulator.url)
    http = httpx.Client(base_url=simulator.url, timeout=60, auth=(KEY_ID, KEY_SECRET))
    rzp = razorpay.Client(auth=(KEY_ID, KEY_SECRET), base_url=simulator.url)
    try:
        yield Stack(
            http,
            rzp,
            gateway,
            async_sessionmaker(committed_engine, expire_on_commit=False),
            infra.database_url,
            datetime.now(UTC),
        )
    finally:
        gateway.close()
        rzp.session.close()
        http.close()
        simulator.stop()
        sidecar.stop()


async def load(
    stack: Stack, payment_id: uuid.UUID
) -> tuple[Payment, list[LedgerEntry], list[Refund]]:
    async with stack.maker() as session:
        row = await session.get(Payment, payment_id)
        assert row is not None
        ledger = (
            await session.scalars(
                select(LedgerEntry)
                .where(LedgerEntry.payment_id == payment_id)
                .order_by(LedgerEntry.seq)
            )
        ).all()
        refunds = (
            await session.scalars(select(Refund).where(Refund.payment_id == payment_id))
        ).all()
        return row, list(ledger), list(refunds)


async def test_a_capture_after_cancelling_is_refunded_automatically(stack: Stack) -> None:
    order = stack.rzp.order.create({"amount": 50_000, "currency": "INR", "receipt": "late-1"})
    async with stack.maker() as session:
        payment = await insert_payment(
            session, order_id=order["id"], status=PaymentStatus.CANCELLED
        )
    await asyncio.to_thread(stack.pay, order["id"], webhook={"duplicate": True, "reorder": True})
    await asyncio.to_thread(stack.settle)

    row, ledger, refunds = await load(stack, payment.id)
    assert row.status == PaymentStatus.CANCELLED
    assert row.razorpay_payment_id is not None
    assert [(r.status, r.amount_minor, r.idempotency_key) for r in refunds] == [
        ("PENDING", 50_000, f"late_{row.razorpay_payment_id}")
    ]
    late = signed(ledger)
    assert ("late_capture", "customer_refunds", -50_000) in late
    assert {k for k, _, _ in late} == {"late_capture", "psp_fee", "psp_tax"}
    assert_balanced(ledger)
    async with stack.maker() as session:
        told = (await session.scalars(select(OutboxEvent).where(
            OutboxEvent.data["paymentId"].astext == str(payment.id),
            OutboxEvent.type == "payments:payment:updated"))).all()  # fmt: skip
    assert [e.data.get("lateCapture") for e in told] == [True]

    # Reconciliation sends it through the refund path at once (not only once it looks stuck).
    report = await reconcile(
        sessionmaker=stack.maker, client=stack.gateway, older_than=timedelta(hours=1), limit=50
    )
    # Sent (the refund's own webhooks may then win the race to apply it: checked below).
    assert (report.refunds_examined, report.errors) == (1, 0)
    await asyncio.to_thread(stack.settle)  # refund.* webhooks arrive too: applied once
    again = await reconcile(
        sessionmaker=stack.maker, client=stack.gateway, older_than=timedelta(hours=1), limit=50
    )
    assert again.refunds_examined == 0
    row, ledger, refunds = await load(stack, payment.id)
    assert (row.status, row.amount_refunded_minor) == (PaymentStatus.CANCELLED, 50_000)
    assert [(r.status, r.razorpay_refund_id is not None) for r in refunds] == [("PROCESSED", True)]
    assert [(k, acc, a) for k, acc, a in signed(ledger) if k == "refund"] == [
        ("refund", "razorpay_clearing", -50_000),
        ("refund", "customer_refunds", 50_000),
    ]
    assert sum(a for _, acc, a in signed(ledger) if acc == "customer_refunds") == 0
    assert_balanced(ledger)


async def test_a_refund_failing_after_processing_reopens_the_payment(stack: Stack) -> None:
    order = stack.rzp.order.create({"amount": 40_000, "currency": "INR", "receipt": "bounce-1"})
    async with stack.maker() as session:
        payment = await insert_payment(session, order_id=order["id"], amount_minor=40_000)
        vendor = payment.payee_id
    await asyncio.to_thread(stack.pay, order["id"])
    await asyncio.to_thread(stack.settle)
    admin = Principal(id=uuid.uuid4(), email="a@example.com", role=Role.ADMIN,
                      scopes=scopes_for(Role.ADMIN), jti="j", issued_at=0, expires_at=0,
                      session_id="s")  # fmt: skip
    async with stack.maker() as session:
        await refund_payment(session=session, principal=admin, gateway=stack.gateway,
                             payment_id=payment.id, amount=Decimal("150.00"))  # fmt: skip
    await asyncio.to_thread(stack.settle)
    row, ledger, refunds = await load(stack, payment.id)
    assert (row.status, row.amount_refunded_minor) == (PaymentStatus.PARTIALLY_REFUNDED, 15_000)
    (processed,) = refunds
    failed = stack.sim.post(f"/_sim/refunds/{processed.razorpay_refund_id}/fail")
    assert failed.status_code == 200, failed.text
    await asyncio.to_thread(stack.settle)

    row, ledger, refunds = await load(stack, payment.id)
    assert (row.status, row.amount_refunded_minor) == (PaymentStatus.COMPLETED, 0)
    assert [r.status for r in refunds] == ["FAILED"]
    moves = signed(ledger)
    refund_legs = [(acc, a) for k, acc, a in moves if k == "refund"]
    reversal = [(acc, a) for k, acc, a in moves if k == "refund_reversal"]
    assert reversal == [(acc, -a) for acc, a in refund_legs]
    assert ("razorpay_clearing", 15_000) in reversal
    assert sum(a for _, acc, a in moves if acc == f"vendor_payable:{vendor}") == -40_000
    assert_balanced(ledger)


async def test_a_capture_after_a_failed_attempt_and_cancelling_is_refunded(stack: Stack) -> None:
    """The usual way to a late capture: an attempt fails, the creator cancels, and the customer
    retries in the Checkout still open; the capture of the second attempt is refunded too."""
    order = stack.rzp.order.create({"amount": 30_000, "currency": "INR", "receipt": "late-2"})
    async with stack.maker() as session:
        payment = await insert_payment(session, order_id=order["id"], amount_minor=30_000)
    await asyncio.to_thread(stack.pay, order["id"], outcome="failure")
    await asyncio.to_thread(stack.settle)
    row, _, _ = await load(stack, payment.id)
    assert row.status == PaymentStatus.FAILED
    failed_attempt = row.razorpay_payment_id
    assert failed_attempt is not None
    async with (
        stack.maker() as session,
        session.begin(),
    ):  # the creator cancels (FAILED -> CANCELLED)
        await session.execute(
            text("UPDATE payments.payments SET status = 'CANCELLED' WHERE id = :id"),
            {"id": payment.id},
        )

    await asyncio.to_thread(stack.pay, order["id"])  # the customer retries: captured
    await asyncio.to_thread(stack.settle)

    row, ledger, refunds = await load(stack, payment.id)
    assert row.status == PaymentStatus.CANCELLED
    assert row.razorpay_payment_id not in (None, failed_attempt)
    assert [(r.status, r.amount_minor, r.idempotency_key) for r in refunds] == [
        ("PENDING", 30_000, f"late_{row.razorpay_payment_id}")
    ]
    assert ("late_capture", "customer_refunds", -30_000) in signed(ledger)
    assert_balanced(ledger)
