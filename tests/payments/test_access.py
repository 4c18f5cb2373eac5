"""access.py: every row rule, for each kind of caller (payer, payee, creator, ADMIN, stranger)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from shared.context import Principal
from shared.errors import DomainError, Forbidden, NotFound
from shared.scopes import Role
from subgraphs.payments import access
from subgraphs.payments.enums import PaymentStatus, PaymentType
from subgraphs.payments.models import Payment
from subgraphs.payments.repository import PaymentQuery
from tests.payments.people import principal

CUSTOMER, VENDOR, OTHER_VENDOR, ADMIN_ID = (uuid.uuid4() for _ in range(4))
NOW = datetime(2024, 1, 1, tzinfo=UTC)


def row(type: PaymentType, *, created_by: uuid.UUID, payer: uuid.UUID, payee: uuid.UUID) -> Payment:
    return Payment(
        id=uuid.uuid4(),
        type=type,
        status=PaymentStatus.COMPLETED,
        amount_minor=1000,
        amount_refunded_minor=0,
        currency="INR",
        payer_id=payer,
        payee_id=payee,
        created_by=created_by,
        receipt="rcpt",
        created_at=NOW,
        updated_at=NOW,
    )


# A CUSTOMER pays a VENDOR; a VENDOR asks a CUSTOMER to pay; an ADMIN asks a CUSTOMER to pay a
# VENDOR (so the creator is neither payer nor payee).
PAYMENTS = {
    "customer pays": row(PaymentType.PAYMENT, created_by=CUSTOMER, payer=CUSTOMER, payee=VENDOR),
    "vendor asks": row(PaymentType.INITIATE, created_by=VENDOR, payer=CUSTOMER, payee=VENDOR),
    "admin asks": row(PaymentType.INITIATE, created_by=ADMIN_ID, payer=CUSTOMER, payee=VENDOR),
}

CALLERS = {
    "payer CUSTOMER": principal(Role.CUSTOMER, CUSTOMER),
    "payee VENDOR": principal(Role.VENDOR, VENDOR),
    "creator ADMIN": principal(Role.ADMIN, ADMIN_ID),
    "other ADMIN": principal(Role.ADMIN),
    "stranger VENDOR": principal(Role.VENDOR, OTHER_VENDOR),
    "stranger CUSTOMER": principal(Role.CUSTOMER),
    # The payee's id with a CUSTOMER token (role changed since): not a payee VENDOR any more.
    "payee as CUSTOMER": principal(Role.CUSTOMER, VENDOR),
}

OK, HIDDEN, REFUSED = "ok", NotFound, Forbidden
Outcome = str | type[DomainError]


@dataclass(frozen=True)
class Case:
    payment: str
    caller: str
    view: Outcome
    pay: Outcome
    cancel: Outcome
    refund: Outcome


CASES = [
    # payment          caller               view    pay      cancel   refund
    Case("customer pays", "payer CUSTOMER", OK, OK, OK, REFUSED),
    Case("customer pays", "payee VENDOR", OK, REFUSED, REFUSED, OK),
    Case("customer pays", "other ADMIN", OK, REFUSED, OK, OK),
    Case("customer pays", "stranger VENDOR", HIDDEN, HIDDEN, HIDDEN, HIDDEN),
    Case("customer pays", "stranger CUSTOMER", HIDDEN, HIDDEN, HIDDEN, HIDDEN),
    Case("customer pays", "payee as CUSTOMER", OK, REFUSED, REFUSED, REFUSED),
    Case("vendor asks", "payer CUSTOMER", OK, OK, REFUSED, REFUSED),
    Case("vendor asks", "payee VENDOR", OK, REFUSED, OK, OK),
    Case("vendor asks", "other ADMIN", OK, REFUSED, OK, OK),
    Case("vendor asks", "stranger VENDOR", HIDDEN, HIDDEN, HIDDEN, HIDDEN),
    Case("vendor asks", "stranger CUSTOMER", HIDDEN, HIDDEN, HIDDEN, HIDDEN),
    Case("admin asks", "payer CUSTOMER", OK, OK, REFUSED, REFUSED),
    Case("admin asks", "payee VENDOR", OK, REFUSED, REFUSED, OK),
    Case("admin asks", "creator ADMIN", OK, REFUSED, OK, OK),
    Case("admin asks", "other ADMIN", OK, REFUSED, OK, OK),
    Case("admin asks", "stranger VENDOR", HIDDEN, HIDDEN, HIDDEN, HIDDEN),
]

Rule = Callable[[Principal, Payment | None], Payment]
RULES: dict[str, Rule] = {
    "view": access.require_visible,
    "pay": access.ensure_payer,
    "cancel": access.ensure_can_cancel,
    "refund": access.ensure_can_refund,
}
PREDICATES = {
    "view": access.can_view,
    "pay": access.is_payer,
    "cancel": access.can_cancel,
    "refund": access.can_refund,
}


def _check(rule: Rule, caller: Principal, payment: Payment, expected: Outcome) -> None:
    if expected == OK:
        assert rule(caller, payment) is payment
    else:
        assert isinstance(expected, type)
        with pytest.raises(expected) as raised:
            rule(caller, payment)
        assert type(raised.value) is expected
        if expected is NotFound:  # the same answer as an unknown id: existence never leaks
            assert str(raised.value) == "Payment not found"


@pytest.mark.parametrize("rule", sorted(RULES))
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.payment}/{c.caller}")
def test_rule(case: Case, rule: str) -> None:
    payment, caller = PAYMENTS[case.payment], CALLERS[case.caller]
    expected: Outcome = getattr(case, rule)
    _check(RULES[rule], caller, payment, expected)
    # The bare predicate agrees with the raising form.
    assert PREDICATES[rule](caller, payment) is (expected == OK)


@pytest.mark.parametrize("rule", sorted(RULES))
@pytest.mark.parametrize("caller", sorted(CALLERS))
def test_unknown_payment_is_not_found(rule: str, caller: str) -> None:
    with pytest.raises(NotFound, match=r"^Payment not found$"):
        RULES[rule](CALLERS[caller], None)


def test_payer_of() -> None:
    assert access.payer_of(PAYMENTS["customer pays"]) == CUSTOMER  # the creator pays
    assert access.payer_of(PAYMENTS["vendor asks"]) == CUSTOMER  # the named payer pays
    orphan = row(PaymentType.PAYMENT, created_by=CUSTOMER, payer=OTHER_VENDOR, payee=VENDOR)
    assert access.payer_of(orphan) == CUSTOMER  # a PAYMENT's payer is always its creator


@pytest.mark.parametrize(
    ("role", "sees_all"), [(Role.ADMIN, True), (Role.VENDOR, False), (Role.CUSTOMER, False)]
)
def test_listing_scope(role: Role, sees_all: bool) -> None:
    caller = principal(role)
    query = PaymentQuery(
        statuses=frozenset({PaymentStatus.COMPLETED}),
        types=frozenset({PaymentType.PAYMENT}),
        currency="INR",
        created_from=NOW,
        created_to=NOW.replace(year=2025),
    )
    scoped = access.visible_query(caller, query)
    if sees_all:
        assert scoped == query
    else:
        assert scoped == PaymentQuery(
            party_id=caller.id,
            statuses=query.statuses,
            types=query.types,
            currency=query.currency,
            created_from=query.created_from,
            created_to=query.created_to,
        )


@pytest.mark.parametrize(
    ("role", "all_payments"), [(Role.ADMIN, True), (Role.VENDOR, False), (Role.CUSTOMER, False)]
)
def test_report_scope(role: Role, all_payments: bool) -> None:
    caller = principal(role)
    assert access.report_party(caller) == (None if all_payments else caller.id)


@pytest.mark.parametrize(
    ("caller", "user_id", "allowed"),
    [
        ("payer CUSTOMER", CUSTOMER, True),
        ("payer CUSTOMER", str(CUSTOMER), True),
        ("payer CUSTOMER", VENDOR, False),
        ("payee VENDOR", CUSTOMER, False),
        ("other ADMIN", CUSTOMER, True),
        ("stranger CUSTOMER", "", False),
    ],
)
def test_self_or_admin(caller: str, user_id: object, allowed: bool) -> None:
    assert access.is_self_or_admin(CALLERS[caller], user_id) is allowed
