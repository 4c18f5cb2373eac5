"""Creating payments: amount, currency, parties and limits, then one atomic write of the
payment, its first transaction and the `payments:payment:created` event."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from shared.context import Principal
from shared.errors import BadUserInput
from shared.money import normalize_currency, to_minor
from shared.scopes import Role
from subgraphs.payments import repository as repo
from subgraphs.payments.enums import (
    EventType,
    PaymentPriority,
    PaymentStatus,
    PaymentType,
    TransactionKind,
    TransactionStatus,
)
from subgraphs.payments.fees import fee_for
from subgraphs.payments.lifecycle.counterparties import (
    NO_SUCH_COUNTERPARTY,
    check_counterparties,
)
from subgraphs.payments.lifecycle.limits import CurrencyLimits, load_payment_settings
from subgraphs.payments.lifecycle.status import event_data
from subgraphs.payments.models import Payment
from subgraphs.payments.service import parse_id
from subgraphs.payments.state import NOT_COUNTED

__all__ = ["NO_SUCH_COUNTERPARTY", "NewPayment", "create_payment"]

MAX_DESCRIPTION = 500
# Control characters other than tab and newline (NUL cannot even be stored).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class NewPayment:
    amount: Decimal
    currency: str
    description: str | None = None
    payee_id: str | None = None
    payer_id: str | None = None
    priority: PaymentPriority = PaymentPriority.STANDARD


def _description(value: str | None) -> str | None:
    text = (value or "").strip()
    if len(text) > MAX_DESCRIPTION:
        raise BadUserInput(
            f"Description is limited to {MAX_DESCRIPTION} characters", field="description"
        )
    if _CONTROL.search(text):
        raise BadUserInput("Description contains control characters", field="description")
    return text or None


def _check_amount(amount: Decimal, currency: str, limits: CurrencyLimits) -> int:
    if amount <= 0:
        raise BadUserInput("Amount must be positive", field="amount")
    minor = to_minor(amount, currency)
    if amount < limits.minimum:
        raise BadUserInput(f"The minimum amount is {limits.minimum} {currency}", field="amount")
    if amount > limits.per_transaction:
        raise BadUserInput(
            f"The maximum amount per payment is {limits.per_transaction} {currency}",
            field="amount",
        )
    return minor


def _parties(
    principal: Principal, payer: uuid.UUID | None, payee: uuid.UUID | None
) -> tuple[PaymentType, PaymentStatus, uuid.UUID, uuid.UUID | None]:
    """(type, initial status, payer, payee) by the creator's role.

    CUSTOMER: a PAYMENT the customer makes (payer = self, optional payee). VENDOR: an INITIATE
    request asking `payerId` to pay the vendor. ADMIN: a request like a vendor's (to the optional
    `payeeId`) when naming another payer, otherwise a payment like a customer's.
    """
    me = principal.id
    if principal.role is Role.VENDOR or (principal.role is Role.ADMIN and payer not in (None, me)):
        if payer is None:
            raise BadUserInput("A payment request needs a payer", field="payerId")
        if payer == me:
            raise BadUserInput("You cannot ask yourself to pay", field="payerId")
        if principal.role is Role.VENDOR:
            if payee not in (None, me):
                raise BadUserInput("A vendor's payment request pays the vendor", field="payeeId")
            payee = me
        elif payee == payer:
            raise BadUserInput("The payer cannot also be the payee", field="payeeId")
        return PaymentType.INITIATE, PaymentStatus.INITIATED, payer, payee
    if payer not in (None, me):
        raise BadUserInput("A customer pays their own payments", field="payerId")
    if payee == me:
        raise BadUserInput("You cannot pay yourself", field="payeeId")
    return PaymentType.PAYMENT, PaymentStatus.PENDING, me, payee


async def _check_totals(
    *,
    session: AsyncSession,
    creator: uuid.UUID,
    currency: str,
    limits: CurrencyLimits,
    minor: int,
    now: datetime,
) -> None:
    await repo.lock_creator_totals(session=session, creator_id=creator, currency=currency)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    month = day.replace(day=1)
    next_month = (month + timedelta(days=32)).replace(day=1)
    for since, until, limit, period in (
        (day, day + timedelta(days=1), limits.daily, "daily"),
        (month, next_month, limits.monthly, "monthly"),
    ):
        total = await repo.created_total_minor(
            session=session,
            creator_id=creator,
            currency=currency,
            since=since,
            until=until,
            excluded=NOT_COUNTED,
        )
        if total + minor > to_minor(limit, currency):
            raise BadUserInput(
                f"This payment would exceed your {period} limit of {limit} {currency}",
                field="amount",
            )


async def create_payment(
    *,
    session: AsyncSession,
    principal: Principal,
    new: NewPayment,
    now: datetime | None = None,
) -> Payment:
    """Validate and store a payment, its first transaction and a `created` event, atomically.

    The platform fee of its currency and priority is fixed now (`fees.py`), from the rules
    committed when this transaction reads them.

    A named payee must be a VENDOR and a named payer a CUSTOMER (`counterparties.py`, through
    auth's published `user_directory` view); otherwise one BAD_USER_INPUT for every reason.
    """
    now = now or datetime.now(UTC)
    currency = normalize_currency(new.currency)
    settings = await load_payment_settings(session)
    limits = settings.limits_for(currency)
    if limits is None:
        raise BadUserInput(f"{currency} is not enabled for payments", field="currency")
    minor = _check_amount(new.amount, currency, limits)
    description = _description(new.description)
    payer = parse_id(new.payer_id, field="payerId") if new.payer_id else None
    payee = parse_id(new.payee_id, field="payeeId") if new.payee_id else None
    kind, status, payer_id, payee_id = _parties(principal, payer, payee)
    await check_counterparties(
        session=session,
        payer_id=payer if payer not in (None, principal.id) else None,
        payee_id=payee if payee not in (None, principal.id) else None,
    )
    await _check_totals(
        session=session,
        creator=principal.id,
        currency=currency,
        limits=limits,
        minor=minor,
        now=now,
    )
    fee = fee_for(
        rules=settings.fees,
        amount_minor=minor,
        currency=currency,
        priority=new.priority,
        payee_id=payee_id,
    )
    payment_id = uuid.uuid4()
    payment = Payment(
        id=payment_id,
        type=kind,
        status=status,
        amount_minor=minor,
        amount_refunded_minor=0,
        priority=new.priority.name,
        fee_minor=fee,
        currency=currency,
        description=description,
        payer_id=payer_id,
        payee_id=payee_id,
        created_by=principal.id,
        receipt=f"rcpt_{payment_id.hex}",
        created_at=now,
        updated_at=now,
    )
    session.add(payment)
    await session.flush()
    repo.add_transaction(
        session=session,
        payment=payment,
        kind=TransactionKind.CREATE,
        amount_minor=minor,
        status=TransactionStatus.SUCCEEDED,
        to_status=status,
        created_at=now,
    )
    repo.add_event(
        session=session,
        type=EventType.PAYMENT_CREATED,
        actor_id=principal.id,
        occurred_at=now,
        data=event_data(payment),
    )
    await session.commit()
    return payment
