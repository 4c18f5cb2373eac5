"""Orders, payments and refunds, serialised exactly as Razorpay's API and webhooks show them.

Razorpay's API is PHP: an empty `notes` is serialised as `[]`, a filled one as an object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

# ISO 4217 minor-unit exponents of the currencies the simulator accepts.
CURRENCY_EXPONENTS: dict[str, int] = {
    "INR": 2, "USD": 2, "EUR": 2, "GBP": 2, "SGD": 2, "AED": 2, "AUD": 2, "CAD": 2, "CHF": 2,
    "CNY": 2, "HKD": 2, "MYR": 2, "NZD": 2, "SAR": 2, "QAR": 2, "SEK": 2, "DKK": 2, "NOK": 2,
    "ZAR": 2, "THB": 2, "LKR": 2, "NPR": 2, "BDT": 2, "JPY": 0, "KWD": 3, "BHD": 3, "OMR": 3,
}  # fmt: skip


def notes_json(notes: dict[str, str]) -> Any:
    return dict(notes) if notes else []


@dataclass
class Order:
    id: str
    amount: int
    currency: str
    receipt: str | None
    notes: dict[str, str]
    payment_capture: bool
    created_at: int
    partial_payment: bool = False
    first_payment_min_amount: int | None = None
    amount_paid: int = 0
    attempts: int = 0
    status: str = "created"  # created | attempted | paid

    @property
    def amount_due(self) -> int:
        return self.amount - self.amount_paid

    def to_json(self) -> JSON:
        body: JSON = {
            "id": self.id,
            "entity": "order",
            "amount": self.amount,
            "amount_paid": self.amount_paid,
            "amount_due": self.amount_due,
            "currency": self.currency,
            "receipt": self.receipt,
            "offer_id": None,
            "status": self.status,
            "attempts": self.attempts,
            "notes": notes_json(self.notes),
            "created_at": self.created_at,
        }
        if self.partial_payment:
            body["partial_payment"] = True
            body["first_payment_min_amount"] = self.first_payment_min_amount
        return body


@dataclass
class Payment:
    id: str
    order_id: str
    amount: int
    currency: str
    method: str  # card | upi | netbanking | wallet
    email: str
    contact: str
    created_at: int
    status: str = "created"  # created | authorized | captured | refunded | failed
    description: str | None = None
    notes: dict[str, str] = field(default_factory=dict)
    amount_refunded: int = 0
    captured: bool = False
    card: JSON | None = None
    bank: str | None = None
    wallet: str | None = None
    vpa: str | None = None
    acquirer_data: JSON = field(default_factory=dict)
    fee: int | None = None
    tax: int | None = None
    error_code: str | None = None
    error_description: str | None = None
    error_source: str | None = None
    error_step: str | None = None
    error_reason: str | None = None

    @property
    def refund_status(self) -> str | None:
        if self.amount_refunded == 0:
            return None
        return "full" if self.amount_refunded >= self.amount else "partial"

    def to_json(self) -> JSON:
        body: JSON = {
            "id": self.id,
            "entity": "payment",
            "amount": self.amount,
            "currency": self.currency,
            "base_amount": self.amount,
            "status": self.status,
            "order_id": self.order_id,
            "invoice_id": None,
            "international": False,
            "method": self.method,
            "amount_refunded": self.amount_refunded,
            "amount_transferred": 0,
            "refund_status": self.refund_status,
            "captured": self.captured,
            "description": self.description,
            "card_id": self.card["id"] if self.card else None,
        }
        if self.card is not None:
            body["card"] = dict(self.card)
            body["token_id"] = None
        body.update(
            {
                "bank": self.bank,
                "wallet": self.wallet,
                "vpa": self.vpa,
                "email": self.email,
                "contact": self.contact,
                "notes": notes_json(self.notes),
                "fee": self.fee,
                "tax": self.tax,
                "error_code": self.error_code,
                "error_description": self.error_description,
                "error_source": self.error_source,
                "error_step": self.error_step,
                "error_reason": self.error_reason,
                "acquirer_data": dict(self.acquirer_data),
                "created_at": self.created_at,
            }
        )
        if self.method == "upi":
            body["upi"] = {"payer_account_type": "bank_account", "vpa": self.vpa, "flow": "collect"}
        return body


@dataclass
class Refund:
    id: str
    payment_id: str
    amount: int
    currency: str
    notes: dict[str, str]
    receipt: str | None
    speed_requested: str
    created_at: int
    status: str = "processed"  # pending | processed | failed
    speed_processed: str = "normal"
    arn: str | None = None

    def to_json(self) -> JSON:
        return {
            "id": self.id,
            "entity": "refund",
            "amount": self.amount,
            "currency": self.currency,
            "payment_id": self.payment_id,
            "notes": notes_json(self.notes),
            "receipt": self.receipt,
            "acquirer_data": {"arn": self.arn},
            "created_at": self.created_at,
            "batch_id": None,
            "status": self.status,
            "speed_processed": self.speed_processed,
            "speed_requested": self.speed_requested,
        }


def collection(items: list[JSON]) -> JSON:
    return {"entity": "collection", "count": len(items), "items": items}
