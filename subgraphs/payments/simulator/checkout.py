"""What the customer does in Razorpay Checkout: pick a method, use a test card or VPA, and get
the handler's answer (`razorpay_payment_id`, `razorpay_order_id`, `razorpay_signature`) or
Checkout's error object.

Test instruments and the outcome they give when the request names no `outcome`:

| method | instrument                         | outcome |
|--------|------------------------------------|---------|
| card   | 4111 1111 1111 1111 (Visa)         | success |
| card   | 5267 3181 8797 5449 (Mastercard)   | success |
| card   | 4000 0000 0000 0002 (Visa)         | failure (declined by the bank) |
| card   | any other Luhn-valid number        | success |
| upi    | success@razorpay                   | success |
| upi    | failure@razorpay                   | failure |
| upi    | any other VPA                      | success |
| netbanking / wallet | bank / wallet code    | success |

An explicit `outcome` always wins over the instrument.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from subgraphs.payments.simulator.errors import invalid_input
from subgraphs.payments.simulator.ids import digits, new_id
from subgraphs.payments.simulator.settings import Quirk

Outcome = Literal["success", "failure", "authorized"]
Method = Literal["card", "upi", "netbanking", "wallet"]

DEFAULT_CARD = "4111111111111111"
FAILURE_CARDS = frozenset({"4000000000000002"})
SUCCESS_VPA = "success@razorpay"
FAILURE_VPA = "failure@razorpay"
DEFAULT_EMAIL = "customer@example.com"
DEFAULT_CONTACT = "+919000090000"

# Where Razorpay reports a failure to come from, by method (as in its documented payloads).
_FAILURE_SOURCE = {"card": "bank", "netbanking": "bank", "upi": "issuer", "wallet": "issuer"}


class WebhookOverrides(BaseModel):
    """Per-request delivery habits; unset fields fall back to the simulator's settings."""

    model_config = ConfigDict(extra="forbid")

    duplicate: bool | None = None
    reorder: bool | None = None
    delay_ms: int | None = Field(default=None, ge=0, le=60_000)
    fail_first: int | None = Field(default=None, ge=0, le=20)
    quirks: list[Quirk] | None = None
    urls: list[str] | None = None
    drop: bool | None = None


class FailureDetails(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = "BAD_REQUEST_ERROR"
    description: str = "Payment failed"
    source: str | None = None
    step: str = "payment_authorization"
    reason: str = "payment_failed"


class PayRequest(BaseModel):
    """`POST /_sim/orders/{order_id}/pay`: one Checkout attempt."""

    model_config = ConfigDict(extra="forbid")

    outcome: Outcome | None = None
    method: Method | None = None
    card_number: str | None = None
    name: str | None = None
    vpa: str | None = None
    bank: str = "HDFC"
    wallet: str = "payzapp"
    amount: int | None = Field(default=None, ge=1)
    email: str = DEFAULT_EMAIL
    contact: str = DEFAULT_CONTACT
    description: str | None = None
    notes: dict[str, str] = Field(default_factory=dict)
    failure: FailureDetails = Field(default_factory=FailureDetails)
    webhook: WebhookOverrides | None = None


class LateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    capture: bool | None = None
    webhook: WebhookOverrides | None = None


@dataclass(frozen=True)
class Attempt:
    """A resolved attempt: the method, its outcome and the instrument fields of the payment."""

    method: str
    outcome: Outcome
    instrument: dict[str, Any]
    failure: FailureDetails


def _luhn_ok(number: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(number)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _network(number: str) -> str:
    if number.startswith("4"):
        return "Visa"
    if number[:2] in {"34", "37"}:
        return "American Express"
    if number[:2] in {"51", "52", "53", "54", "55"} or "2221" <= number[:4] <= "2720":
        return "MasterCard"
    if number[:2] in {"60", "65", "81", "82"} or number.startswith("508"):
        return "RuPay"
    return "Unknown"


def _card(number: str, name: str | None) -> dict[str, Any]:
    return {
        "id": new_id("card"),
        "entity": "card",
        "name": name,
        "iin": number[:6],
        "last4": number[-4:],
        "network": _network(number),
        "type": "credit",
        "issuer": None,
        "international": False,
        "emi": False,
        "sub_type": "consumer",
    }


def resolve(request: PayRequest) -> Attempt:
    method: str = request.method or (
        "card" if request.card_number else "upi" if request.vpa else "card"
    )
    implied: Outcome = "success"
    instrument: dict[str, Any]
    if method == "card":
        number = (request.card_number or DEFAULT_CARD).replace(" ", "")
        if not (number.isdigit() and 12 <= len(number) <= 19 and _luhn_ok(number)):
            raise invalid_input("Your card number is invalid.", "card_number")
        implied = "failure" if number in FAILURE_CARDS else "success"
        instrument = {"card": _card(number, request.name)}
    elif method == "upi":
        vpa = request.vpa or SUCCESS_VPA
        if "@" not in vpa:
            raise invalid_input("Invalid VPA. Please enter a valid Virtual Payment Address", "vpa")
        implied = "failure" if vpa == FAILURE_VPA else "success"
        instrument = {"vpa": vpa}
    elif method == "netbanking":
        instrument = {"bank": request.bank}
    else:
        instrument = {"wallet": request.wallet}
    failure = request.failure
    if failure.source is None:
        failure = failure.model_copy(update={"source": _FAILURE_SOURCE[method]})
    return Attempt(
        method=method, outcome=request.outcome or implied, instrument=instrument, failure=failure
    )


def acquirer_data(method: str, *, succeeded: bool) -> dict[str, Any]:
    """The bank references Razorpay reports per method (null while nothing was authorised)."""
    if method == "card":
        return {
            "auth_code": digits(6) if succeeded else None,
            "rrn": digits(12) if succeeded else None,
        }
    if method == "upi":
        return {"rrn": digits(12) if succeeded else None}
    if method == "netbanking":
        return {"bank_transaction_id": digits(7) if succeeded else None}
    return {"transaction_id": None}


def fee_and_tax(amount: int) -> tuple[int, int]:
    """Razorpay's standard 2% fee plus 18% GST on it; `fee` includes the tax."""
    base = amount * 2 // 100
    tax = base * 18 // 100
    return base + tax, tax


def checkout_signature(key_secret: str, order_id: str, payment_id: str) -> str:
    message = f"{order_id}|{payment_id}".encode()
    return hmac.new(key_secret.encode(), message, hashlib.sha256).hexdigest()


def handler_response(key_secret: str, order_id: str, payment_id: str) -> dict[str, str]:
    """What Checkout's `handler` receives after a successful payment."""
    return {
        "razorpay_payment_id": payment_id,
        "razorpay_order_id": order_id,
        "razorpay_signature": checkout_signature(key_secret, order_id, payment_id),
    }


def failure_response(failure: FailureDetails, order_id: str, payment_id: str) -> dict[str, Any]:
    """What Checkout's `payment.failed` callback receives (`response.error`)."""
    return {
        "error": {
            "code": failure.code,
            "description": failure.description,
            "source": failure.source,
            "step": failure.step,
            "reason": failure.reason,
            "metadata": {"order_id": order_id, "payment_id": payment_id},
        }
    }
