"""Small factories: Razorpay events shaped like the documented samples, signed deliveries, and
our payment rows (inserted directly, matching `subgraphs.payments.models`)."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import string
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.payments.enums import PaymentStatus, PaymentType
from subgraphs.payments.models import Payment, PaymentTransaction

SECRET = "whsec-test-current-0123456789"
PREVIOUS_SECRET = "whsec-test-previous-9876543210"
ACCOUNT_ID = "acc_BFQ7uQEaa7j2z7"

_ALPHABET = string.ascii_letters + string.digits
_AUTO: Any = object()


def rzp_id(prefix: str) -> str:
    """An id shaped like Razorpay's (`pay_DESlfW9H8K9uqM`)."""
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(14))


def payment_entity(
    *,
    order_id: str | None,
    amount: int = 50_000,
    currency: str = "INR",
    status: str = "captured",
    payment_id: str | None = None,
    amount_refunded: int = 0,
    notes: Any = _AUTO,
    **changes: Any,
) -> dict[str, Any]:
    """A payment entity as in Razorpay's `payment.captured` sample (netbanking)."""
    failed = status == "failed"
    entity: dict[str, Any] = {
        "id": payment_id or rzp_id("pay"),
        "entity": "payment",
        "amount": amount,
        "currency": currency,
        "base_amount": amount,
        "status": status,
        "order_id": order_id,
        "invoice_id": None,
        "international": False,
        "method": "netbanking",
        "amount_refunded": amount_refunded,
        "amount_transferred": 0,
        "refund_status": None,
        "captured": status in ("captured", "refunded"),
        "description": None,
        "card_id": None,
        "bank": "HDFC",
        "wallet": None,
        "vpa": None,
        "email": "gaurav.kumar@example.com",
        "contact": "+919876543210",
        "notes": [] if notes is _AUTO else notes,
        "fee": None if failed else 2,
        "tax": None if failed else 0,
        "error_code": "BAD_REQUEST_ERROR" if failed else None,
        "error_description": "Payment failed" if failed else None,
        "error_source": "issuer" if failed else None,
        "error_step": "payment_authorization" if failed else None,
        "error_reason": "payment_failed" if failed else None,
        "acquirer_data": {"bank_transaction_id": "0125836177"},
        "created_at": int(time.time()),
    }
    entity.update(changes)
    return entity


def order_entity(*, order_id: str, amount: int, currency: str = "INR") -> dict[str, Any]:
    return {
        "id": order_id,
        "entity": "order",
        "amount": amount,
        "amount_paid": amount,
        "amount_due": 0,
        "currency": currency,
        "receipt": "rcptid #1",
        "offer_id": None,
        "status": "paid",
        "attempts": 1,
        "notes": [],
        "created_at": int(time.time()),
    }


def refund_entity(
    *,
    payment_id: str,
    amount: int,
    currency: str = "INR",
    status: str = "processed",
    refund_id: str | None = None,
) -> dict[str, Any]:
    """A refund entity as in Razorpay's `refund.processed` sample."""
    return {
        "id": refund_id or rzp_id("rfnd"),
        "entity": "refund",
        "amount": amount,
        "currency": currency,
        "payment_id": payment_id,
        "notes": {"comment": "Customer Notes for Webhooks."},
        "receipt": None,
        "acquirer_data": {"arn": None},
        "created_at": int(time.time()),
        "batch_id": None,
        "status": status,
        "speed_processed": "normal",
        "speed_requested": "optimum",
    }


def event(name: str, **entities: dict[str, Any]) -> dict[str, Any]:
    """The envelope Razorpay wraps entities in (`contains` lists them in order)."""
    return {
        "entity": "event",
        "account_id": ACCOUNT_ID,
        "event": name,
        "contains": list(entities),
        "payload": {key: {"entity": value} for key, value in entities.items()},
        "created_at": int(time.time()),
    }


def sign(secret: str, raw: bytes) -> str:
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Delivery:
    raw: bytes
    headers: dict[str, str]
    event_id: str | None


def delivery(
    body: Any,
    *,
    secret: str | None = SECRET,
    event_id: str | None = _AUTO,
    signature: str | None = _AUTO,
    raw: bytes | None = None,
) -> Delivery:
    """A POST as Razorpay sends it: the compact JSON bytes, their signature and an event id."""
    raw = raw if raw is not None else json.dumps(body, separators=(",", ":")).encode()
    event_id = rzp_id("evt") if event_id is _AUTO else event_id
    headers = {"content-type": "application/json", "user-agent": "Razorpay-Webhook/v1"}
    if signature is _AUTO:
        signature = sign(secret, raw) if secret is not None else None
    if signature is not None:
        headers["x-razorpay-signature"] = signature
    if event_id is not None:
        headers["x-razorpay-event-id"] = event_id
    return Delivery(raw=raw, headers=headers, event_id=event_id)


def body_sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


async def insert_payment(
    session: AsyncSession,
    *,
    status: PaymentStatus = PaymentStatus.PROCESSING,
    amount_minor: int = 50_000,
    currency: str = "INR",
    order_id: str | None = _AUTO,
    provider_payment_id: str | None = None,
) -> Payment:
    """A payment with a Razorpay order (as startCheckout leaves it), committed."""
    now = datetime.now(UTC)
    payment_id = uuid.uuid4()
    payer = uuid.uuid4()
    payment = Payment(
        id=payment_id,
        type=PaymentType.PAYMENT,
        status=status,
        amount_minor=amount_minor,
        amount_refunded_minor=0,
        currency=currency,
        description="webhook test",
        payer_id=payer,
        payee_id=uuid.uuid4(),
        created_by=payer,
        razorpay_order_id=rzp_id("order") if order_id is _AUTO else order_id,
        razorpay_payment_id=provider_payment_id,
        receipt=f"rcpt_{payment_id.hex}",
        created_at=now,
        updated_at=now,
    )
    session.add(payment)
    await session.flush()
    session.add(
        PaymentTransaction(
            id=uuid.uuid4(),
            payment_id=payment_id,
            kind="CREATE",
            amount_minor=amount_minor,
            status="SUCCEEDED",
            from_status=None,
            to_status=status,
            created_at=now,
            details={},
        )
    )
    await session.commit()
    return payment
