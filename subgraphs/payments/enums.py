"""The payment domain's closed vocabularies (stored as text with CHECK constraints); the two
the API exposes are GraphQL enums too."""

from __future__ import annotations

from enum import Enum, StrEnum

import strawberry

from shared.enum_docs import described_enum


@described_enum(
    description="Where a payment is in its lifecycle. Status only moves forward: PENDING or "
    "INITIATED -> PROCESSING -> COMPLETED (or FAILED, which can still become COMPLETED) -> "
    "PARTIALLY_REFUNDED -> REFUNDED; CANCELLED before COMPLETED.",
    values={
        "PENDING": "A CUSTOMER's PAYMENT, created; no Razorpay order yet (startCheckout next).",
        "INITIATED": "A VENDOR's INITIATE request, waiting for its payer to start Checkout.",
        "PROCESSING": "A Razorpay order exists (startCheckout); waiting for the payer to pay and "
        "Razorpay to capture.",
        "COMPLETED": "Razorpay captured the money. Only refunds move it further.",
        "FAILED": "The payment attempt failed (declined, bad Checkout signature). Not final: "
        "the payer may retry the same order and Razorpay may capture late (-> COMPLETED).",
        "CANCELLED": "Cancelled by its creator or an ADMIN before completion. Final.",
        "REFUNDED": "The whole captured amount was refunded. Final.",
        "PARTIALLY_REFUNDED": "Part of the captured amount was refunded (amountRefunded < "
        "amount); further refunds allowed up to the rest.",
    },
)
class PaymentStatus(StrEnum):
    PENDING = "PENDING"
    INITIATED = "INITIATED"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    REFUNDED = "REFUNDED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"


@described_enum(
    description="Who started the payment: a VENDOR's request to pay, or a CUSTOMER's payment.",
    values={
        "INITIATE": "A VENDOR asks a CUSTOMER (payer) to pay it; starts INITIATED.",
        "PAYMENT": "A CUSTOMER pays, optionally to a VENDOR (payee); starts PENDING.",
    },
)
class PaymentType(StrEnum):
    INITIATE = "INITIATE"  # a VENDOR asks a CUSTOMER to pay
    PAYMENT = "PAYMENT"  # a CUSTOMER pays


@strawberry.enum(
    description="Settlement priority of a payment: INSTANT settles sooner and costs more."
)
class PaymentPriority(Enum):
    STANDARD = strawberry.enum_value(
        "STANDARD", description="Settled on the normal schedule, at the standard fee."
    )
    INSTANT = strawberry.enum_value(
        "INSTANT", description="Settled as soon as possible, at the (higher) instant fee."
    )


class TransactionKind(StrEnum):
    """What a `payment_transactions` row records."""

    CREATE = "CREATE"
    STATUS_CHANGE = "STATUS_CHANGE"
    CHECKOUT = "CHECKOUT"  # a Razorpay order was created for the payment
    AUTHORIZATION = "AUTHORIZATION"  # Razorpay authorised a payment attempt (not yet captured)
    CAPTURE = "CAPTURE"
    VERIFY_ATTEMPT = "VERIFY_ATTEMPT"  # one verifyPayment call, its outcome in `details`
    REFUND = "REFUND"


class TransactionStatus(StrEnum):
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    PENDING = "PENDING"


class EventType(StrEnum):
    """Outbox event types this service writes (names are the contract's)."""

    PAYMENT_CREATED = "payments:payment:created"
    PAYMENT_UPDATED = "payments:payment:updated"
    PAYMENT_COMPLETED = "payments:payment:completed"
    PAYMENT_FAILED = "payments:payment:failed"
    # An audit record of one verifyPayment call (whatever its outcome); not a status change, so
    # outside the `payments:payment:` family that the relay fans out to subscribers.
    VERIFICATION_ATTEMPTED = "payments:verification:attempted"
    # The nightly ledger verification found a broken chain (audited by admin like every event).
    LEDGER_BROKEN = "payments:ledger:broken"
    # Reconciliation of the ledger against Razorpay's lists found a difference (one per finding).
    LEDGER_MISMATCH = "payments:ledger:mismatch"


class RefundStatus(StrEnum):
    """Our refund rows: PENDING until Razorpay reports it processed (or failed)."""

    PENDING = "PENDING"
    PROCESSED = "PROCESSED"
    FAILED = "FAILED"
