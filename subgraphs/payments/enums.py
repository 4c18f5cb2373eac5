"""The payment domain's closed vocabularies (stored as text with CHECK constraints); the two
the API exposes are GraphQL enums too."""

from __future__ import annotations

from enum import Enum, StrEnum

import strawberry


@strawberry.enum(description="Where a payment is in its lifecycle.")
class PaymentStatus(StrEnum):
    PENDING = "PENDING"
    INITIATED = "INITIATED"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    REFUNDED = "REFUNDED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"


@strawberry.enum(description="INITIATE: a VENDOR asks a CUSTOMER to pay; PAYMENT: a CUSTOMER pays.")
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
