"""Creating payments against real PostgreSQL (each test in a rolled-back SAVEPOINT)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import BadUserInput
from shared.pagination import PageRequest
from shared.scopes import Role
from subgraphs.admin.config import DEFAULTS
from subgraphs.payments import service
from subgraphs.payments.enums import PaymentStatus, PaymentType
from subgraphs.payments.lifecycle import creation
from subgraphs.payments.lifecycle import status as lifecycle
from subgraphs.payments.lifecycle.creation import NewPayment
from subgraphs.payments.lifecycle.limits import ENABLED_CURRENCIES, LIMITS
from subgraphs.payments.models import OutboxEvent, PaymentTransaction
from subgraphs.payments.repository import PaymentQuery
from tests.payments.people import new, principal, registered


async def test_customer_creates_a_pending_payment_with_transaction_and_event(
    db_session: AsyncSession,
) -> None:
    customer = principal(Role.CUSTOMER)
    payee = await registered(db_session, Role.VENDOR)
    payment = await creation.create_payment(
        session=db_session,
        principal=customer,
        new=new("99.99", payee_id=str(payee), description="  Order 42  "),
    )
    assert (payment.type, payment.status) == (PaymentType.PAYMENT, PaymentStatus.PENDING)
    assert (payment.payer_id, payment.payee_id, payment.created_by) == (
        customer.id,
        payee,
        customer.id,
    )
    assert payment.amount_minor == 9999
    assert payment.description == "Order 42"
    assert payment.receipt == f"rcpt_{payment.id.hex}"
    assert len(payment.receipt) <= 40
    txs = (
        await db_session.scalars(
            select(PaymentTransaction).where(PaymentTransaction.payment_id == payment.id)
        )
    ).all()
    assert [(t.kind, t.to_status, t.amount_minor) for t in txs] == [("CREATE", "PENDING", 9999)]
    event = await db_session.scalar(
        select(OutboxEvent).where(OutboxEvent.data["paymentId"].astext == str(payment.id))
    )
    assert event is not None
    assert event.type == "payments:payment:created"
    assert event.actor_id == customer.id
    assert event.data["amount"] == "99.99"
    assert event.data["amountMinor"] == 9999
    assert event.published_at is None


async def test_vendor_creates_an_initiated_request_for_a_payer(db_session: AsyncSession) -> None:
    vendor = principal(Role.VENDOR)
    payer = await registered(db_session, Role.CUSTOMER)
    payment = await creation.create_payment(
        session=db_session, principal=vendor, new=new(payer_id=str(payer))
    )
    assert (payment.type, payment.status) == (PaymentType.INITIATE, PaymentStatus.INITIATED)
    assert (payment.payer_id, payment.payee_id, payment.created_by) == (
        payer,
        vendor.id,
        vendor.id,
    )


async def test_admin_creates_a_request_when_naming_a_payer_else_a_payment(
    db_session: AsyncSession,
) -> None:
    admin = principal(Role.ADMIN)
    payer = await registered(db_session, Role.CUSTOMER)
    payee = await registered(db_session, Role.VENDOR)
    request = await creation.create_payment(
        session=db_session, principal=admin, new=new(payer_id=str(payer), payee_id=str(payee))
    )
    assert (request.type, request.payer_id, request.payee_id) == ("INITIATE", payer, payee)
    own = await creation.create_payment(session=db_session, principal=admin, new=new())
    assert (own.type, own.payer_id, own.payee_id) == ("PAYMENT", admin.id, None)
    with pytest.raises(BadUserInput) as caught:
        await creation.create_payment(
            session=db_session, principal=admin, new=new(payer_id=str(payer), payee_id=str(payer))
        )
    assert caught.value.extensions["field"] == "payeeId"


@pytest.mark.parametrize(
    ("role", "kwargs", "field"),
    [
        (Role.VENDOR, {}, "payerId"),
        (Role.VENDOR, {"payer_id": "not-a-uuid"}, "payerId"),
        (Role.VENDOR, {"payer_id": "SELF"}, "payerId"),
        (Role.VENDOR, {"payer_id": str(uuid.uuid4()), "payee_id": str(uuid.uuid4())}, "payeeId"),
        (Role.CUSTOMER, {"payer_id": str(uuid.uuid4())}, "payerId"),
        (Role.CUSTOMER, {"payee_id": "SELF"}, "payeeId"),
        (Role.CUSTOMER, {"payee_id": "nope"}, "payeeId"),
        (Role.CUSTOMER, {"currency": "XYZ"}, "currency"),
        (Role.CUSTOMER, {"currency": "JPY"}, "currency"),  # known but not enabled
        (Role.CUSTOMER, {"description": "x" * 501}, "description"),
        (Role.CUSTOMER, {"description": "nul\x00"}, "description"),
    ],
)
async def test_invalid_parties_and_fields_are_bad_user_input(
    db_session: AsyncSession, role: Role, kwargs: dict[str, str], field: str
) -> None:
    caller = principal(role)
    values = {k: (str(caller.id) if v == "SELF" else v) for k, v in kwargs.items()}
    with pytest.raises(BadUserInput) as caught:
        await creation.create_payment(session=db_session, principal=caller, new=new(**values))
    assert caught.value.extensions["field"] == field


@pytest.mark.parametrize(
    ("amount", "currency", "message"),
    [
        ("0", "INR", "positive"),
        ("-5.00", "INR", "positive"),
        ("10.001", "INR", "decimal places"),
        ("0.99", "INR", "minimum"),
        ("0.49", "USD", "minimum"),
        ("500000.01", "INR", "maximum"),
    ],
)
async def test_amount_rules(
    db_session: AsyncSession, amount: str, currency: str, message: str
) -> None:
    with pytest.raises(BadUserInput, match=message) as caught:
        await creation.create_payment(
            session=db_session,
            principal=principal(Role.CUSTOMER),
            new=NewPayment(amount=Decimal(amount), currency=currency),
        )
    assert caught.value.extensions["field"] == "amount"


async def test_boundaries_are_accepted(db_session: AsyncSession) -> None:
    customer = principal(Role.CUSTOMER)
    low = await creation.create_payment(session=db_session, principal=customer, new=new("1.00"))
    high = await creation.create_payment(
        session=db_session, principal=customer, new=new("500000.00")
    )
    assert (low.amount_minor, high.amount_minor) == (100, 50_000_000)


async def test_daily_and_monthly_limits_count_only_live_payments(
    db_session: AsyncSession,
) -> None:
    customer = principal(Role.CUSTOMER)
    now = datetime(2031, 3, 15, 12, 0, tzinfo=UTC)
    for _ in range(2):
        await creation.create_payment(
            session=db_session, principal=customer, new=new("500000.00"), now=now
        )
    with pytest.raises(BadUserInput, match="daily limit") as caught:
        await creation.create_payment(
            session=db_session, principal=customer, new=new("1.00"), now=now
        )
    assert caught.value.extensions["field"] == "amount"
    # A cancelled payment no longer counts.
    first = (
        await service.list_payments(
            session=db_session,
            query=PaymentQuery(party_id=customer.id),
            page=PageRequest.from_args(first=1, after=None),
        )
    )[0]
    await lifecycle.cancel_payment(
        session=db_session, principal=customer, payment_id=first.id, now=now
    )
    await creation.create_payment(session=db_session, principal=customer, new=new("1.00"), now=now)
    # Month so far: 500000.00 + 1.00 live. Eight more days of 500000.00 make 4500001.00; the
    # month may reach exactly 5000000.00, not a paisa more.
    for day in range(1, 9):
        await creation.create_payment(
            session=db_session, principal=customer, new=new("500000.00"), now=now.replace(day=day)
        )
    later = now.replace(day=20)
    await creation.create_payment(
        session=db_session, principal=customer, new=new("499999.00"), now=later
    )
    with pytest.raises(BadUserInput, match="monthly limit"):
        await creation.create_payment(
            session=db_session, principal=customer, new=new("1.00"), now=later
        )
    # Next month starts afresh.
    await creation.create_payment(
        session=db_session, principal=customer, new=new("1.00"), now=now.replace(month=4)
    )


def test_limits_equal_the_admin_seed() -> None:
    assert sorted(ENABLED_CURRENCIES) == sorted(DEFAULTS["payments.enabled_currencies"])
    for code, limits in LIMITS.items():
        seeded = DEFAULTS[f"payments.limits.{code}"]
        assert {
            "minimum": limits.minimum,
            "perTransaction": limits.per_transaction,
            "daily": limits.daily,
            "monthly": limits.monthly,
        } == {k: Decimal(v) for k, v in seeded.items()}
    assert set(LIMITS) == ENABLED_CURRENCIES
