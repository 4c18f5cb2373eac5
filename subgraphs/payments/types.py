"""GraphQL types of the payments subgraph (the contract's names), mapped from the tables."""

from __future__ import annotations

import operator
import uuid
from collections import namedtuple
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

import strawberry
from strawberry.types import Info

from shared.money import exponent, to_major
from shared.on_read import made_on_read
from shared.pagination import After, Connection, First, PageRequest, build_connection
from shared.scopes import Scope
from subgraphs.payments import access, service
from subgraphs.payments.checkout.start import Checkout
from subgraphs.payments.context import Context
from subgraphs.payments.enums import PaymentPriority, PaymentStatus, PaymentType
from subgraphs.payments.ledger.types import LedgerEntry
from subgraphs.payments.loaders import UserPage
from subgraphs.payments.models import Payment as PaymentRow
from subgraphs.payments.models import PaymentTransaction as TransactionRow
from subgraphs.payments.repository import PaymentRecord
from subgraphs.payments.service import Report

READ = [[Scope.PAYMENTS_READ.value]]


@strawberry.type(description="One step in a payment's history.")
class PaymentTransaction:
    id: strawberry.ID = strawberry.field(description="The step's id.")
    kind: str = strawberry.field(
        description="What happened: CREATE, STATUS_CHANGE, CHECKOUT (Razorpay order created), "
        "AUTHORIZATION, CAPTURE, VERIFY_ATTEMPT (one verifyPayment call) or REFUND."
    )
    amount: Decimal = strawberry.field(
        description="Amount the step concerns, decimal string in the payment's major units."
    )
    status: str = strawberry.field(description="The step's outcome: SUCCEEDED, FAILED or PENDING.")
    from_status: PaymentStatus | None = strawberry.field(
        description="The payment's status before the step (status changes only)."
    )
    to_status: PaymentStatus | None = strawberry.field(
        description="The payment's status after the step (status changes only)."
    )
    created_at: datetime = strawberry.field(description="When the step happened.")

    @classmethod
    def from_row(cls, row: TransactionRow, currency: str) -> PaymentTransaction:
        return cls(
            id=strawberry.ID(str(row.id)),
            kind=row.kind,
            amount=to_major(row.amount_minor, currency),
            status=row.status,
            from_status=PaymentStatus(row.from_status) if row.from_status else None,
            to_status=PaymentStatus(row.to_status) if row.to_status else None,
            created_at=row.created_at,
        )


async def resolve_transactions(
    root: Payment, info: Info[Context, None]
) -> list[PaymentTransaction]:
    rows = await info.context.loaders.transactions_by_payment_id.load(root.row_id)
    return [PaymentTransaction.from_row(row, root.currency) for row in rows]


async def resolve_ledger(root: Payment, info: Info[Context, None]) -> list[LedgerEntry]:
    rows = await info.context.loaders.ledger_by_payment_id.load(root.row_id)
    return [LedgerEntry.from_row(row) for row in rows]


@strawberry.federation.type(keys=["id"], description="A payment or a request to pay.")
class Payment:
    id: strawberry.ID = strawberry.field(description="The payment's id (a UUID).")
    type: PaymentType = strawberry.field(
        description="INITIATE (a VENDOR's request) or PAYMENT (a CUSTOMER's)."
    )
    status: PaymentStatus = strawberry.field(
        description="Where it is in its lifecycle; paymentUpdated pushes every change."
    )
    amount: Decimal = strawberry.field(
        description="The amount to pay, decimal string in major units of currency, e.g. "
        '"99.99" (never a float).'
    )
    amount_refunded: Decimal = strawberry.field(
        description='Refunded so far, decimal string in major units ("0.00" when none).'
    )
    currency: str = strawberry.field(description="ISO 4217 code, upper-case, e.g. `INR`.")
    description: str | None = strawberry.field(
        description="Free text from the creator (at most 500 characters)."
    )
    payer: User | None = strawberry.field(description="Who pays (resolved by auth).")
    payee: User | None = strawberry.field(description="Who is paid, when known.")
    created_by: User = strawberry.field(description="Who created the payment.")
    razorpay_order_id: str | None = strawberry.field(
        description="Razorpay's order id (`order_...`), once startCheckout created it."
    )
    razorpay_payment_id: str | None = strawberry.field(
        description="Razorpay's payment id (`pay_...`), once the payer paid."
    )
    transactions: list[PaymentTransaction] = strawberry.field(
        resolver=resolve_transactions, description="The payment's history, oldest first."
    )
    created_at: datetime = strawberry.field(description="When the payment was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    priority: PaymentPriority = strawberry.field(
        description="Settlement priority chosen at creation (STANDARD unless asked otherwise)."
    )
    fee: Decimal = strawberry.field(
        description=(
            "The platform fee, fixed at creation from the rule of the currency and priority "
            "(0 without a VENDOR payee or a rule); never above the amount."
        )
    )
    net_amount: Decimal = strawberry.field(
        description="What the payee is owed for the payment: amount - fee (fixed at creation)."
    )
    ledger: list[LedgerEntry] = strawberry.field(
        resolver=resolve_ledger,
        description=(
            "The payment's double-entry ledger rows in chain order (capture, fees, refunds, "
            "reversals); visible to whoever may see the payment."
        ),
    )
    row_id: strawberry.Private[uuid.UUID]

    @classmethod
    async def resolve_reference(cls, info: Info[Context, None], id: strawberry.ID) -> Payment:
        principal = info.context.require_principal()
        payment_id = service.parse_id(str(id), field="id")
        row = await info.context.loaders.payment_by_id.load(payment_id)
        return cls.from_row(access.require_visible(principal, row))

    @classmethod
    def from_row(cls, row: PaymentRow) -> Payment:
        """The payment as the API shows it. Every page builds one per row, and a query reads
        a few of its fields: what can fail (the enums, the currency) and the plain copies are
        set here; the id as text, the four amounts and the three party references are made
        when first read (`shared.on_read`), once. The values read are the same either way.

        A row that is not a listing's immutable `PaymentRecord` (an ORM instance a mutation
        goes on changing, a Core row) is copied first: what is shown is the row as it was."""
        if type(row) is not PaymentRecord:  # type: ignore[comparison-overlap]
            row = _PaymentSnapshot._make(_read_snapshot(row))  # type: ignore[assignment]
        currency = row.currency
        payment: Payment = _new(cls)
        payment.__dict__ = {
            "type": _member(_TYPES, PaymentType, row.type),
            "status": _member(_STATUSES, PaymentStatus, row.status),
            "currency": currency,
            "description": row.description,
            "razorpay_order_id": row.razorpay_order_id,
            "razorpay_payment_id": row.razorpay_payment_id,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
            "priority": _PRIORITIES[row.priority],
            "row_id": row.id,
            "_row": row,
        }
        exponent(currency)  # an unknown currency fails here, as it did before reads were lazy
        return payment


E = TypeVar("E", bound=Enum)

_TYPES = {member.value: member for member in PaymentType}
_STATUSES = {member.value: member for member in PaymentStatus}
_PRIORITIES = PaymentPriority.__members__  # by name, as PaymentPriority[name] (same KeyError)


def _member(members: dict[str, E], enum: type[E], value: str) -> E:
    """`enum(value)` by lookup; an unknown value still raises the enum's ValueError."""
    member = members.get(value)
    return enum(value) if member is None else member


_new = object.__new__

# The columns `Payment.from_row` reads, copied from a row that may change after it.
_SNAPSHOT_COLUMNS = (
    "id", "type", "status", "amount_minor", "amount_refunded_minor", "currency", "description",
    "payer_id", "payee_id", "created_by", "razorpay_order_id", "razorpay_payment_id",
    "created_at", "updated_at", "priority", "fee_minor",
)  # fmt: skip
_PaymentSnapshot = namedtuple("_PaymentSnapshot", _SNAPSHOT_COLUMNS)  # type: ignore[misc]
_read_snapshot = operator.attrgetter(*_SNAPSHOT_COLUMNS)


def _party(payment: Payment, user_id: uuid.UUID | None, creator_id: uuid.UUID) -> User | None:
    if user_id is None:
        return None
    return payment.created_by if user_id == creator_id else User.ref(user_id)


# The fields of a `Payment` made on first read, from the payment and its row
# (`shared.on_read`: only a `Payment` of `from_row` has its row).
_ON_READ: dict[str, Callable[[Payment, Any], Any]] = {
    "id": lambda payment, row: str(row.id),
    "amount": lambda payment, row: to_major(row.amount_minor, row.currency),
    "amount_refunded": lambda payment, row: to_major(row.amount_refunded_minor, row.currency),
    "fee": lambda payment, row: to_major(row.fee_minor, row.currency),
    "net_amount": lambda payment, row: to_major(row.amount_minor - row.fee_minor, row.currency),
    "created_by": lambda payment, row: User.ref(row.created_by),
    "payer": lambda payment, row: _party(payment, row.payer_id, row.created_by),
    "payee": lambda payment, row: _party(payment, row.payee_id, row.created_by),
}
made_on_read(Payment, "_row", _ON_READ)


async def resolve_user_payments(
    root: User,
    info: Info[Context, None],
    first: First = 20,
    after: After = None,
) -> Connection[Payment]:
    """Batched: every `User` of a request shares one page statement (per `first`/`after`) and,
    when selected, one grouped `totalCount` statement."""
    user_id = service.parse_id(str(root.id), field="id")
    page = PageRequest.from_args(first=first, after=after)
    loaders = info.context.loaders
    rows = await loaders.payment_page_by_user_page.load(UserPage(user_id, page))
    for row in rows:
        loaders.payment_by_id.prime(row.id, row)

    async def total() -> int:
        return await loaders.payment_count_by_user_id.load(user_id)

    return build_connection(
        rows, page, node=Payment.from_row, key=lambda r: (r.created_at, r.id), total_count=total
    )


@strawberry.federation.type(keys=["id"])
class User:
    id: strawberry.ID
    payments: Connection[Payment] = strawberry.federation.field(
        resolver=resolve_user_payments,
        description="Payments the user pays, receives or created, newest first (self or ADMIN).",
        requires_scopes=READ,
        policy=[["self_or_admin"]],
    )

    @classmethod
    def ref(cls, user_id: uuid.UUID) -> User:
        """The entity reference of a user (`{ id }`; the router asks auth for the rest)."""
        return cls(id=_user_id_text(user_id))

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> User:
        return cls(id=id)


# The text of the user ids seen lately, by the UUID's integer (a C-level hash; `str(uuid)`
# costs several microseconds, and a page names the same few users on every row). Emptied when
# full: bounded memory, and a user id's text never changes.
_USER_ID_TEXTS: dict[int, strawberry.ID] = {}
_MAX_USER_ID_TEXTS = 4096


def _user_id_text(user_id: uuid.UUID) -> strawberry.ID:
    key = user_id.int
    text = _USER_ID_TEXTS.get(key)
    if text is None:
        if len(_USER_ID_TEXTS) >= _MAX_USER_ID_TEXTS:
            _USER_ID_TEXTS.clear()
        text = _USER_ID_TEXTS[key] = strawberry.ID(str(user_id))
    return text


@strawberry.type(description="What Razorpay Checkout needs: open it with these values.")
class CheckoutSession:
    payment_id: strawberry.ID = strawberry.field(
        description="The payment to pass to verifyPayment with Checkout's handler response."
    )
    razorpay_order_id: str = strawberry.field(description="Checkout's `order_id` option.")
    razorpay_key_id: str = strawberry.field(description="Checkout's `key` option.")
    amount: Decimal = strawberry.field(description="Major units, for display.")
    amount_minor: int = strawberry.field(description="Checkout's `amount` option (minor units).")
    currency: str = strawberry.field(description="Checkout's `currency` option (ISO 4217).")
    description: str | None = strawberry.field(
        description="Checkout's `description` option: the payment's description."
    )
    payment: Payment = strawberry.field(description="The payment as this call left it.")

    @classmethod
    def from_checkout(cls, checkout: Checkout) -> CheckoutSession:
        row = checkout.payment
        return cls(
            payment_id=strawberry.ID(str(row.id)),
            razorpay_order_id=checkout.order_id,
            razorpay_key_id=checkout.key_id,
            amount=to_major(row.amount_minor, row.currency),
            amount_minor=row.amount_minor,
            currency=row.currency,
            description=row.description,
            payment=Payment.from_row(row),
        )


@strawberry.type(description="One currency's totals in a payment report.")
class CurrencyTotals:
    currency: str = strawberry.field(description="ISO 4217 code.")
    count: int = strawberry.field(description="Payments of every status.")
    captured_count: int = strawberry.field(description="COMPLETED or (partially) refunded.")
    gross: Decimal = strawberry.field(description="Amounts captured.")
    refunded: Decimal = strawberry.field(description="Refunds processed.")
    net: Decimal = strawberry.field(description="gross - refunded.")


@strawberry.type(description="Payments of one status and currency in a payment report.")
class StatusTotals:
    status: PaymentStatus = strawberry.field(description="The status.")
    currency: str = strawberry.field(description="ISO 4217 code.")
    count: int = strawberry.field(description="How many payments.")
    amount: Decimal = strawberry.field(
        description="Sum of their amounts, decimal string in major units."
    )


@strawberry.type(description="Payments created in [from, to): totals per currency and status.")
class PaymentReport:
    from_: datetime = strawberry.field(name="from", description="Start of the range (inclusive).")
    to: datetime = strawberry.field(description="End of the range (exclusive).")
    currency: str | None = strawberry.field(
        description="The currency asked for; null when the report covers every currency."
    )
    totals: list[CurrencyTotals] = strawberry.field(description="One row per currency.")
    by_status: list[StatusTotals] = strawberry.field(
        description="One row per status and currency that has payments."
    )

    @classmethod
    def from_report(cls, report: Report) -> PaymentReport:
        return cls(
            from_=report.start,
            to=report.end,
            currency=report.currency,
            totals=[
                CurrencyTotals(
                    currency=c.currency,
                    count=c.count,
                    captured_count=c.captured_count,
                    gross=c.gross,
                    refunded=c.refunded,
                    net=c.net,
                )
                for c in report.currencies
            ],
            by_status=[
                StatusTotals(status=s.status, currency=s.currency, count=s.count, amount=s.amount)
                for s in report.statuses
            ],
        )
