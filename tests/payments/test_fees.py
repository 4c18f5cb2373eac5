"""Fees fixed at creation: the rule of the currency and priority, only for a VENDOR payee."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.scopes import Role
from subgraphs.payments.enums import PaymentPriority
from subgraphs.payments.lifecycle import creation
from subgraphs.payments.lifecycle.creation import NewPayment
from subgraphs.payments.types import Payment
from tests.payments.people import principal, registered

RULES = {
    "INR": {
        "STANDARD": {"percentBps": 200, "fixed": "3.00", "min": "5.00", "max": "500.00"},
        "INSTANT": {"percentBps": 350, "fixed": "5.00"},
    },
}


async def set_fees(session: AsyncSession, value: Any) -> None:
    """The `payments.fees` row as admin stores it (in the test's rolled-back transaction)."""
    await session.execute(
        text(
            "INSERT INTO admin.system_config (key, value, description, updated_at) "
            "VALUES ('payments.fees', CAST(:v AS jsonb), 'fees', now()) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
        ),
        {"v": json.dumps(value)},
    )


def new(amount: str, priority: PaymentPriority, **kw: str | None) -> NewPayment:
    return NewPayment(amount=Decimal(amount), currency="INR", priority=priority, **kw)


@pytest.mark.parametrize(
    ("amount", "priority", "fee"),
    [
        ("99.99", PaymentPriority.STANDARD, "5.00"),  # 2.00 + 3.00 = 5.00 (the min)
        ("1000.00", PaymentPriority.STANDARD, "23.00"),  # 20.00 + 3.00
        ("100000.00", PaymentPriority.STANDARD, "500.00"),  # capped by max
        ("99.99", PaymentPriority.INSTANT, "8.50"),  # 3.49965 -> 3.50, + 5.00
        ("3.00", PaymentPriority.INSTANT, "3.00"),  # 0.105 -> 0.11 + 5.00, capped by the amount
    ],
)
async def test_a_vendor_request_is_charged_its_rule(
    db_session: AsyncSession, amount: str, priority: PaymentPriority, fee: str
) -> None:
    await set_fees(db_session, RULES)
    vendor = principal(Role.VENDOR, await registered(db_session, Role.VENDOR))
    payer = await registered(db_session, Role.CUSTOMER)
    row = await creation.create_payment(
        session=db_session, principal=vendor, new=new(amount, priority, payer_id=str(payer))
    )
    shown = Payment.from_row(row)
    assert (shown.priority, shown.fee) == (priority, Decimal(fee))
    assert shown.net_amount == Decimal(amount) - Decimal(fee)
    assert str(shown.fee) == fee  # the currency's two decimals


async def test_a_customer_payment_to_a_vendor_is_charged(db_session: AsyncSession) -> None:
    await set_fees(db_session, RULES)
    payee = await registered(db_session, Role.VENDOR)
    row = await creation.create_payment(
        session=db_session,
        principal=principal(Role.CUSTOMER),
        new=new("1000.00", PaymentPriority.INSTANT, payee_id=str(payee)),
    )
    assert (row.priority, row.fee_minor) == ("INSTANT", 3500 + 500)


async def test_no_payee_or_no_rule_means_no_fee(db_session: AsyncSession) -> None:
    await set_fees(db_session, {"USD": RULES["INR"]})  # no INR rule
    payee = await registered(db_session, Role.VENDOR)
    customer = principal(Role.CUSTOMER)
    without_rule = await creation.create_payment(
        session=db_session, principal=customer, new=new("50.00", PaymentPriority.STANDARD)
    )
    await set_fees(db_session, RULES)
    without_payee = await creation.create_payment(
        session=db_session, principal=customer, new=new("50.00", PaymentPriority.INSTANT)
    )
    with_payee = await creation.create_payment(
        session=db_session,
        principal=customer,
        new=new("50.00", PaymentPriority.STANDARD, payee_id=str(payee)),
    )
    assert [without_rule.fee_minor, without_payee.fee_minor, with_payee.fee_minor] == [0, 0, 500]
    assert without_rule.priority == "STANDARD"


async def test_the_fee_is_fixed_at_creation(db_session: AsyncSession) -> None:
    await set_fees(db_session, RULES)
    payee = await registered(db_session, Role.VENDOR)
    row = await creation.create_payment(
        session=db_session,
        principal=principal(Role.CUSTOMER),
        new=new("1000.00", PaymentPriority.STANDARD, payee_id=str(payee)),
    )
    await set_fees(db_session, {"INR": {"STANDARD": {"percentBps": 10_000, "fixed": "0"}}})
    await db_session.refresh(row)
    assert row.fee_minor == 2300
    assert Payment.from_row(row).net_amount == Decimal("977.00")


async def test_an_unparseable_stored_value_charges_nothing(db_session: AsyncSession) -> None:
    """Admin refuses bad rules; a row that still does not parse (written around admin) means no
    fee rather than failed payments."""
    await set_fees(db_session, {"INR": {"STANDARD": {"percentBps": "lots"}}})
    payee = await registered(db_session, Role.VENDOR)
    row = await creation.create_payment(
        session=db_session,
        principal=principal(Role.CUSTOMER),
        new=new("1000.00", PaymentPriority.STANDARD, payee_id=str(payee)),
    )
    assert row.fee_minor == 0
