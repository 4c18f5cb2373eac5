"""`Payment.from_row`: the same payment, field for field, whether built from a listing's record,
an ORM row or a Core row, with some fields made only when first read."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import strawberry

from shared.errors import BadUserInput
from shared.money import to_major
from subgraphs.payments.enums import PaymentPriority, PaymentStatus, PaymentType
from subgraphs.payments.models import Payment as PaymentRow
from subgraphs.payments.repository import PaymentRecord
from subgraphs.payments.types import Payment, User

CREATOR = uuid.uuid4()
OTHER = uuid.uuid4()
NOW = datetime(2026, 3, 1, 9, 30, 15, 250000, tzinfo=UTC)


def columns(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = dict.fromkeys(PaymentRecord._fields)
    values.update(
        id=uuid.uuid4(),
        type="PAYMENT",
        status="COMPLETED",
        amount_minor=9999,
        amount_refunded_minor=100,
        currency="INR",
        description="two books",
        payer_id=CREATOR,
        payee_id=OTHER,
        created_by=CREATOR,
        razorpay_order_id="order_abc",
        razorpay_payment_id=None,
        receipt="r-1",
        created_at=NOW,
        updated_at=NOW + timedelta(seconds=3),
        priority="INSTANT",
        fee_minor=350,
        version=1,
    )
    values.update(changes)
    return values


def expected(values: dict[str, Any]) -> Payment:
    """Every field computed up front: what `from_row` built before some became lazy."""
    currency = values["currency"]

    def party(user_id: uuid.UUID | None) -> User | None:
        return None if user_id is None else User(id=strawberry.ID(str(user_id)))

    return Payment(
        id=strawberry.ID(str(values["id"])),
        type=PaymentType(values["type"]),
        status=PaymentStatus(values["status"]),
        amount=to_major(values["amount_minor"], currency),
        amount_refunded=to_major(values["amount_refunded_minor"], currency),
        currency=currency,
        description=values["description"],
        payer=party(values["payer_id"]),
        payee=party(values["payee_id"]),
        created_by=User(id=strawberry.ID(str(values["created_by"]))),
        razorpay_order_id=values["razorpay_order_id"],
        razorpay_payment_id=values["razorpay_payment_id"],
        created_at=values["created_at"],
        updated_at=values["updated_at"],
        priority=PaymentPriority[values["priority"]],
        fee=to_major(values["fee_minor"], currency),
        net_amount=to_major(values["amount_minor"] - values["fee_minor"], currency),
        row_id=values["id"],
    )


VARIANTS = [
    {},
    {"currency": "JPY", "amount_minor": 5, "amount_refunded_minor": 0, "fee_minor": 0},
    {"currency": "KWD", "amount_minor": 1234, "amount_refunded_minor": 1, "fee_minor": 234},
    {"currency": "USD", "amount_minor": 0, "amount_refunded_minor": 0, "fee_minor": 0},
    {"amount_minor": 2**63 - 1, "fee_minor": 2**62, "currency": "BHD"},
    {"payer_id": None, "payee_id": None, "description": None, "razorpay_order_id": None},
    {"payer_id": OTHER, "payee_id": CREATOR, "razorpay_payment_id": "pay_x"},
    {"type": "INITIATE", "status": "PENDING", "priority": "STANDARD"},
    {"status": "PARTIALLY_REFUNDED"},
]


def record(values: dict[str, Any]) -> PaymentRecord:
    return PaymentRecord(**values)


def orm(values: dict[str, Any]) -> PaymentRow:
    return PaymentRow(**{k: v for k, v in values.items() if hasattr(PaymentRow, k)})


@pytest.mark.parametrize("make", [record, orm], ids=["record", "orm"])
@pytest.mark.parametrize("changes", VARIANTS)
def test_from_row_shows_every_field_as_before(make: Any, changes: dict[str, Any]) -> None:
    values = columns(**changes)
    want = expected(values)
    got = Payment.from_row(make(values))
    assert type(got) is Payment
    assert got == want  # the dataclass equality compares every field
    assert repr(got) == repr(want)
    for name in ("amount", "amount_refunded", "fee", "net_amount"):
        value = getattr(got, name)
        assert value.as_tuple() == getattr(want, name).as_tuple()  # same digits and exponent
        assert getattr(got, name) is value  # made once


def test_money_fields_show_the_currency_decimals() -> None:
    inr = Payment.from_row(record(columns(amount_minor=9999, fee_minor=0)))
    assert (str(inr.amount), str(inr.fee), str(inr.net_amount)) == ("99.99", "0.00", "99.99")
    one = Payment.from_row(record(columns(amount_minor=100, fee_minor=0)))
    assert str(one.amount) == "1.00"
    jpy = Payment.from_row(record(columns(currency="JPY", amount_minor=5, fee_minor=0)))
    assert (str(jpy.amount), str(jpy.fee)) == ("5", "0")
    kwd = Payment.from_row(record(columns(currency="KWD", amount_minor=1234, fee_minor=4)))
    assert (str(kwd.amount), str(kwd.net_amount)) == ("1.234", "1.230")


def test_parties_are_entity_references_and_the_creator_is_shared() -> None:
    got = Payment.from_row(record(columns(payer_id=CREATOR, payee_id=OTHER)))
    assert got.payer is got.created_by  # one `User` per distinct party, as before
    assert got.payee == User(id=strawberry.ID(str(OTHER)))
    assert got.created_by.id == str(CREATOR)
    assert type(got.created_by.id) is str
    alone = Payment.from_row(record(columns(payer_id=None, payee_id=None)))
    assert (alone.payer, alone.payee) == (None, None)
    payee_first = Payment.from_row(record(columns(payee_id=CREATOR, payer_id=None)))
    assert payee_first.payee is payee_first.created_by


def test_an_orm_row_is_shown_as_it_was_when_mapped() -> None:
    row = orm(columns(status="PENDING", amount_minor=500, fee_minor=0))
    shown = Payment.from_row(row)
    row.status = "COMPLETED"
    row.amount_minor = 700
    row.payer_id = OTHER
    assert shown.status is PaymentStatus.PENDING
    assert shown.amount == Decimal("5.00")
    assert shown.payer is not None
    assert shown.payer.id == str(CREATOR)


def test_invalid_rows_fail_when_mapped_as_before() -> None:
    with pytest.raises(ValueError, match="NOT_A_STATUS"):
        Payment.from_row(record(columns(status="NOT_A_STATUS")))
    with pytest.raises(ValueError, match="NOT_A_TYPE"):
        Payment.from_row(record(columns(type="NOT_A_TYPE")))
    with pytest.raises(KeyError):
        Payment.from_row(record(columns(priority="NOT_A_PRIORITY")))
    with pytest.raises(BadUserInput):
        Payment.from_row(record(columns(currency="XYZ")))


def test_a_payment_built_directly_is_unchanged() -> None:
    values = columns()
    built = expected(values)
    assert built == Payment.from_row(record(values))
    with pytest.raises(AttributeError):
        getattr(built, "nothing")  # noqa: B009
    with pytest.raises(AttributeError):
        getattr(Payment.from_row(record(values)), "nothing")  # noqa: B009


def test_from_row_sets_or_makes_on_read_every_field() -> None:
    # A field added to `Payment` must be set in `from_row` or made in `_ON_READ`, or reading
    # it from a mapped payment raises AttributeError (docs/adding-a-field.md).
    from subgraphs.payments.types import _ON_READ

    fields = {f.name for f in dataclasses.fields(Payment) if f.init}
    mapped = Payment.from_row(record(columns()))
    set_now = set(vars(mapped)) - {"_row"}
    assert set_now.isdisjoint(_ON_READ)
    assert set_now | set(_ON_READ) == fields
