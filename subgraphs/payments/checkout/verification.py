"""verifyPayment: the payer hands over what Razorpay Checkout's handler received.

1. The given order id must be the one WE stored for the payment, and the signature must equal
   `HMAC_SHA256(key_secret, stored_order_id + "|" + razorpay_payment_id)` (constant-time
   compare). Otherwise the payment becomes FAILED (when the state machine allows it), the
   attempt is recorded, both are committed, and then BAD_USER_INPUT is raised.
2. Razorpay's view of the payment is fetched and must belong to that order; `sync` applies it
   (amount and currency checked there): captured -> COMPLETED.
3. Verifying a payment that is already settled with the same Razorpay payment id returns it.

Every attempt, whatever its outcome, leaves a VERIFY_ATTEMPT transaction and an outbox event.
"""

from __future__ import annotations

import hmac
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NoReturn

from sqlalchemy.ext.asyncio import AsyncSession

from shared.context import Principal
from shared.errors import BadUserInput, PaymentProviderError
from shared.logging import mask
from subgraphs.payments import repository as repo
from subgraphs.payments import sync
from subgraphs.payments.access import ensure_payer
from subgraphs.payments.enums import EventType, PaymentStatus, TransactionKind, TransactionStatus
from subgraphs.payments.lifecycle.status import change_status, event_data
from subgraphs.payments.models import Payment
from subgraphs.payments.provider.razorpay import RazorpayGateway
from subgraphs.payments.state import SETTLED, can_transition

log = logging.getLogger("bff.payments.verify")
security_log = logging.getLogger("bff.security")

# Outcome -> (message, field) of the attempts refused as bad input.
REFUSALS: dict[str, tuple[str, str]] = {
    "NO_CHECKOUT": ("No checkout was started for this payment", "razorpayOrderId"),
    "ORDER_MISMATCH": ("The order does not belong to this payment", "razorpayOrderId"),
    "BAD_SIGNATURE": ("The payment signature is not valid", "razorpaySignature"),
    "PAYMENT_MISMATCH": ("The payment does not belong to this order", "razorpayPaymentId"),
}
# Razorpay's status after sync -> the attempt's outcome.
RESULTS = {
    PaymentStatus.COMPLETED: "VERIFIED",
    PaymentStatus.PROCESSING: "PENDING_CAPTURE",
    PaymentStatus.FAILED: "PAYMENT_FAILED",
}


@dataclass(frozen=True, slots=True)
class Verification:
    payment_id: uuid.UUID
    razorpay_order_id: str
    razorpay_payment_id: str
    razorpay_signature: str


async def verify_payment(
    *,
    session: AsyncSession,
    principal: Principal,
    gateway: RazorpayGateway,
    check: Verification,
    now: datetime | None = None,
) -> Payment:
    now = now or datetime.now(UTC)
    payment = ensure_payer(
        principal, await repo.get_payment(session=session, payment_id=check.payment_id)
    )
    await session.commit()  # no transaction stays open while Razorpay is asked
    stored = payment.razorpay_order_id
    if stored is None:
        await _refuse(session, principal, payment, check, "NO_CHECKOUT", now)
    if not hmac.compare_digest(check.razorpay_order_id.encode(), stored.encode()):
        await _refuse(session, principal, payment, check, "ORDER_MISMATCH", now)
    if not gateway.signature_matches(
        order_id=stored, payment_id=check.razorpay_payment_id, signature=check.razorpay_signature
    ):
        await _refuse(session, principal, payment, check, "BAD_SIGNATURE", now)
    if payment.status in SETTLED and payment.razorpay_payment_id == check.razorpay_payment_id:
        _audit(session, principal, payment, check, "ALREADY_VERIFIED", now)
        await session.commit()
        return payment
    try:
        seen = await gateway.fetch_payment(check.razorpay_payment_id)
    except PaymentProviderError:
        _audit(session, principal, payment, check, "PROVIDER_ERROR", now)
        await session.commit()
        raise
    if seen.order_id != stored:
        await _refuse(session, principal, payment, check, "PAYMENT_MISMATCH", now)
    result = await sync.apply_provider_payment(
        session=session, payment=seen, source="verify", now=now
    )
    if result.outcome == "mismatch":
        await _refuse(session, principal, payment, check, "PAYMENT_MISMATCH", now)
    _audit(
        session, principal, payment, check, RESULTS.get(PaymentStatus(payment.status), "OK"), now
    )
    await session.commit()
    return payment


async def _refuse(
    session: AsyncSession,
    principal: Principal,
    payment: Payment,
    check: Verification,
    outcome: str,
    now: datetime,
) -> NoReturn:
    """Fail the payment (if it may), record the attempt, commit, then raise BAD_USER_INPUT."""
    security_log.warning(
        "payment verification refused",
        extra={
            "security_event": "verify_refused",
            "outcome": outcome,
            "payment": mask(str(payment.id)),
            "order": mask(check.razorpay_order_id),
            "signature": mask(check.razorpay_signature),
        },
    )
    locked = await repo.get_payment(session=session, payment_id=payment.id, for_update=True)
    assert locked is not None  # payments are never deleted
    fails = outcome != "NO_CHECKOUT"
    if fails and can_transition(PaymentStatus(locked.status), PaymentStatus.FAILED):
        await change_status(
            session=session,
            payment=locked,
            target=PaymentStatus.FAILED,
            actor_id=principal.id,
            now=now,
            details={"source": "verify", "reason": outcome},
        )
    _audit(session, principal, locked, check, outcome, now)
    await session.commit()
    message, field = REFUSALS[outcome]
    raise BadUserInput(message, field=field)


def _audit(
    session: AsyncSession,
    principal: Principal,
    payment: Payment,
    check: Verification,
    outcome: str,
    now: datetime,
) -> None:
    succeeded = outcome in ("VERIFIED", "ALREADY_VERIFIED", "PENDING_CAPTURE")
    details: dict[str, object] = {
        "outcome": outcome,
        "actorId": str(principal.id),
        "razorpayOrderId": check.razorpay_order_id[:64],
        "razorpayPaymentId": check.razorpay_payment_id[:64],
        "signature": mask(check.razorpay_signature[:128]),
    }
    repo.add_transaction(
        session=session,
        payment=payment,
        kind=TransactionKind.VERIFY_ATTEMPT,
        amount_minor=payment.amount_minor,
        status=TransactionStatus.SUCCEEDED if succeeded else TransactionStatus.FAILED,
        created_at=now,
        details=details,
    )
    repo.add_event(
        session=session,
        type=EventType.VERIFICATION_ATTEMPTED,
        actor_id=principal.id,
        occurred_at=now,
        data={**event_data(payment), "outcome": outcome},
    )
