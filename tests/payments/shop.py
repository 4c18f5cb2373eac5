"""GraphQL operations and steps of the checkout flow, for tests against the simulator."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.scopes import Role
from subgraphs.payments.models import OutboxEvent, PaymentTransaction
from tests.helpers import Caller, Subgraph
from tests.payments.people import member
from tests.simulator.support import Sim

FIELDS = """id type status amount amountRefunded currency razorpayOrderId razorpayPaymentId
  payer { id } payee { id } transactions { kind status fromStatus toStatus amount }"""
CREATE = (
    f"mutation C($input: CreatePaymentInput!) {{ createPayment(input: $input) {{ {FIELDS} }} }}"
)
START = """mutation S($id: ID!) { startCheckout(paymentId: $id) {
  paymentId razorpayOrderId razorpayKeyId amount amountMinor currency description
  payment { id status } } }"""
VERIFY = (
    f"mutation V($input: VerifyPaymentInput!) {{ verifyPayment(input: $input) {{ {FIELDS} }} }}"
)
REFUND = f"mutation R($id: ID!, $amount: Decimal) {{ refundPayment(id: $id, amount: $amount) {{ {FIELDS} }} }}"  # noqa: E501
PAYMENT = f"query P($id: ID!) {{ payment(id: $id) {{ {FIELDS} }} }}"
REPORT = """query Rep($from: DateTime!, $to: DateTime!, $currency: String) {
  paymentReport(from: $from, to: $to, currency: $currency) { from to currency
    totals { currency count capturedCount gross refunded net }
    byStatus { status currency count amount } } }"""


async def create(shop: Subgraph, caller: Caller, amount: str = "99.99", **extra: Any) -> str:
    data = await shop.ok(CREATE, {"input": {"amount": amount, **extra}}, as_=caller)
    payment_id: str = data["createPayment"]["id"]
    return payment_id


async def customer_payment(shop: Subgraph, amount: str = "99.99") -> tuple[Caller, Caller, str]:
    """(customer, payee vendor, payment id) of a PENDING PAYMENT the customer pays the vendor."""
    customer, vendor = shop.caller(Role.CUSTOMER), await member(shop, Role.VENDOR)
    return customer, vendor, await create(shop, customer, amount, payeeId=str(vendor.id))


async def start(shop: Subgraph, caller: Caller, payment_id: str) -> dict[str, Any]:
    data = await shop.ok(START, {"id": payment_id}, as_=caller)
    session: dict[str, Any] = data["startCheckout"]
    return session


def pay(sim: Sim, order_id: str, **body: Any) -> dict[str, Any]:
    """The customer pays in Checkout; returns what Checkout's handler receives."""
    return sim.pay(order_id, **body)


def verify_input(payment_id: str, handler: dict[str, Any], **override: str) -> dict[str, Any]:
    values = {
        "paymentId": payment_id,
        "razorpayOrderId": handler["razorpay_order_id"],
        "razorpayPaymentId": handler["razorpay_payment_id"],
        "razorpaySignature": handler["razorpay_signature"],
    }
    values.update(override)
    return {"input": values}


async def verify(
    shop: Subgraph, caller: Caller, payment_id: str, handler: dict[str, Any], **override: str
) -> dict[str, Any]:
    return await shop.gql(VERIFY, verify_input(payment_id, handler, **override), as_=caller)


async def paid(shop: Subgraph, sim: Sim, amount: str = "99.99") -> tuple[Caller, Caller, str]:
    """A COMPLETED payment: created, checked out, paid and verified."""
    customer, vendor, payment_id = await customer_payment(shop, amount)
    checkout = await start(shop, customer, payment_id)
    handler = pay(sim, checkout["razorpayOrderId"])
    result = await verify(shop, customer, payment_id, handler)
    assert result["data"]["verifyPayment"]["status"] == "COMPLETED", result
    return customer, vendor, payment_id


async def transactions(engine: AsyncEngine, payment_id: str) -> list[PaymentTransaction]:
    async with async_sessionmaker(engine)() as session:
        return await _transactions(session, payment_id)


async def _transactions(session: AsyncSession, payment_id: str) -> list[PaymentTransaction]:
    rows = await session.scalars(
        select(PaymentTransaction)
        .where(PaymentTransaction.payment_id == payment_id)
        .order_by(PaymentTransaction.seq)
    )
    return list(rows.all())


async def event_types(engine: AsyncEngine, payment_id: str) -> list[str]:
    async with async_sessionmaker(engine)() as session:
        rows = await session.scalars(
            select(OutboxEvent.type)
            .where(OutboxEvent.data["paymentId"].astext == payment_id)
            .order_by(OutboxEvent.occurred_at)
        )
        return list(rows.all())
