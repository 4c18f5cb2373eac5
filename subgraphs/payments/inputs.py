"""GraphQL inputs of the payments subgraph and their translation into validated domain values."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from shared.errors import BadUserInput
from shared.money import normalize_currency
from subgraphs.payments.checkout.verification import Verification
from subgraphs.payments.enums import PaymentPriority, PaymentStatus, PaymentType
from subgraphs.payments.lifecycle.creation import NewPayment
from subgraphs.payments.repository import PaymentQuery
from subgraphs.payments.service import parse_id


@strawberry.input(
    description=(
        "Narrows a payment listing; every given condition must hold. `status` and `type` accept "
        "one value or a list (any of them). `createdFrom` is inclusive, `createdTo` exclusive."
    )
)
class PaymentFilter:
    status: list[PaymentStatus] | None = strawberry.field(
        default=None, description="Only payments in one of these statuses."
    )
    type: list[PaymentType] | None = strawberry.field(
        default=None, description="Only payments of one of these types."
    )
    currency: str | None = strawberry.field(
        default=None, description="Only payments in this currency (ISO 4217)."
    )
    created_from: datetime | None = strawberry.field(
        default=None, description="Only payments created at or after this instant."
    )
    created_to: datetime | None = strawberry.field(
        default=None, description="Only payments created before this instant."
    )

    def to_query(self) -> PaymentQuery:
        if self.status is not None and not self.status:
            raise BadUserInput("Give at least one status, or leave it out", field="status")
        if self.type is not None and not self.type:
            raise BadUserInput("Give at least one type, or leave it out", field="type")
        if (
            self.created_from is not None
            and self.created_to is not None
            and self.created_from >= self.created_to
        ):
            raise BadUserInput("createdTo must be later than createdFrom", field="createdTo")
        return PaymentQuery(
            statuses=frozenset(self.status) if self.status is not None else None,
            types=frozenset(self.type) if self.type is not None else None,
            currency=normalize_currency(self.currency) if self.currency is not None else None,
            created_from=self.created_from,
            created_to=self.created_to,
        )


@strawberry.input(
    description=(
        "A CUSTOMER creates a PAYMENT (status PENDING; payeeId optional). A VENDOR creates an "
        "INITIATE request (status INITIATED) and must name payerId."
    )
)
class CreatePaymentInput:
    amount: Decimal = strawberry.field(
        description='Decimal string in major units, e.g. "99.99": positive, at most the '
        "currency's minor-unit digits (INR 2, JPY 0), within the configured per-payment, daily "
        "and monthly limits (else BAD_USER_INPUT, field `amount`)."
    )
    currency: str = strawberry.field(
        default="INR",
        description="ISO 4217 code of an enabled currency (seeded: INR, USD, EUR, GBP; an "
        "ADMIN configures them); else BAD_USER_INPUT.",
    )
    description: str | None = strawberry.field(
        default=None, description="Free text shown to both parties, at most 500 characters."
    )
    payee_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="CUSTOMER only, optional: the VENDOR to be paid (any other id: "
        "BAD_USER_INPUT, field `payeeId`).",
    )
    payer_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="VENDOR only, required: the CUSTOMER asked to pay (any other id: "
        "BAD_USER_INPUT, field `payerId`).",
    )
    priority: PaymentPriority = strawberry.field(
        default=PaymentPriority.STANDARD,
        description=(
            "Settlement priority; it picks the fee rule (`payments.fees`) charged on a payment "
            "to a VENDOR. Default STANDARD."
        ),
    )

    def to_new_payment(self) -> NewPayment:
        return NewPayment(
            amount=self.amount,
            currency=self.currency,
            description=self.description,
            payee_id=str(self.payee_id) if self.payee_id is not None else None,
            payer_id=str(self.payer_id) if self.payer_id is not None else None,
            priority=self.priority,
        )


@strawberry.input(description="What Razorpay Checkout's handler received, for one payment.")
class VerifyPaymentInput:
    payment_id: strawberry.ID = strawberry.field(description="The payment being paid.")
    razorpay_order_id: str = strawberry.field(description="The handler's `razorpay_order_id`.")
    razorpay_payment_id: str = strawberry.field(description="The handler's `razorpay_payment_id`.")
    razorpay_signature: str = strawberry.field(description="The handler's `razorpay_signature`.")

    def to_verification(self) -> Verification:
        for field, value in (
            ("razorpayOrderId", self.razorpay_order_id),
            ("razorpayPaymentId", self.razorpay_payment_id),
            ("razorpaySignature", self.razorpay_signature),
        ):
            if not value.strip() or len(value) > 256:
                raise BadUserInput("A value from Razorpay Checkout is required here", field=field)
        return Verification(
            payment_id=parse_id(str(self.payment_id), field="paymentId"),
            razorpay_order_id=self.razorpay_order_id.strip(),
            razorpay_payment_id=self.razorpay_payment_id.strip(),
            razorpay_signature=self.razorpay_signature.strip(),
        )
