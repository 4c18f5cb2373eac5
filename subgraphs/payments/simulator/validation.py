"""Razorpay's input rules for the bodies the product sends, with Razorpay's messages.

The simulator is a little stricter than Razorpay in one place on purpose: a JSON float amount
(`100.0`) is refused, because the product must never put money in a float.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request

from subgraphs.payments.simulator.entities import CURRENCY_EXPONENTS
from subgraphs.payments.simulator.errors import invalid_input

MAX_NOTES = 15
MAX_NOTE_VALUE = 512
MAX_RECEIPT = 40
_INTEGER = re.compile(r"^-?\d+$")
_IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{10,}$")


@dataclass(frozen=True)
class OrderInput:
    amount: int
    currency: str
    receipt: str | None
    notes: dict[str, str]
    partial_payment: bool
    first_payment_min_amount: int | None
    payment_capture: bool | None


@dataclass(frozen=True)
class CaptureInput:
    amount: int
    currency: str


@dataclass(frozen=True)
class RefundInput:
    amount: int | None
    speed: str
    notes: dict[str, str]
    receipt: str | None


async def read_body(request: Request) -> dict[str, Any]:
    """The request body as a dict: JSON (what the SDK sends) or a form (what curl -d sends)."""
    raw = await request.body()
    if not raw.strip():
        return {}
    if "application/x-www-form-urlencoded" in request.headers.get("content-type", ""):
        return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    try:
        body = json.loads(raw)
    except ValueError:
        raise invalid_input("The request body is not valid JSON.") from None
    if isinstance(body, list) and not body:
        return {}
    if not isinstance(body, dict):
        raise invalid_input("The request body should be a JSON object.")
    return body


def _label(name: str) -> str:
    return name.replace("_", " ")


def _reject_extra(body: dict[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(body) - allowed)
    if extra:
        raise invalid_input(
            f"{', '.join(extra)} is/are not required and should not be sent", extra[0]
        )


def _integer(body: dict[str, Any], name: str, *, required: bool) -> int | None:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise invalid_input(f"The {_label(name)} field is required.", name)
        return None
    if isinstance(value, bool) or not (
        isinstance(value, int) or (isinstance(value, str) and _INTEGER.match(value))
    ):
        raise invalid_input(f"The {_label(name)} must be an integer.", name)
    return int(value)


def _boolean(body: dict[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if value in (0, 1, "0", "1", "true", "false"):
        return value in (1, "1", "true")
    raise invalid_input(f"The {_label(name)} field must be true or false.", name)


def _string(body: dict[str, Any], name: str, *, max_length: int) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid_input(f"The {_label(name)} must be a string.", name)
    if len(value) > max_length:
        raise invalid_input(
            f"The {_label(name)} may not be greater than {max_length} characters.", name
        )
    return value


def _notes(body: dict[str, Any]) -> dict[str, str]:
    value = body.get("notes")
    if value is None or value == []:
        return {}
    if not isinstance(value, dict):
        raise invalid_input("Notes should be provided as a dictionary", "notes")
    if len(value) > MAX_NOTES:
        raise invalid_input("Number of fields in notes should be less than or equal to 15", "notes")
    notes: dict[str, str] = {}
    for key, item in value.items():
        if isinstance(item, list | dict):
            raise invalid_input("Notes values themselves should not be an array", "notes")
        text = "" if item is None else str(item).lower() if isinstance(item, bool) else str(item)
        if len(text) > MAX_NOTE_VALUE:
            raise invalid_input("Notes value cannot be greater 512 characters", "notes")
        notes[str(key)] = text
    return notes


def _currency(body: dict[str, Any]) -> str:
    value = body.get("currency")
    if value is None or value == "":
        raise invalid_input("The currency field is required.", "currency")
    if not isinstance(value, str) or value not in CURRENCY_EXPONENTS:
        raise invalid_input("Currency is not supported", "currency")
    return value


def minimum_amount(currency: str) -> int:
    """Razorpay's floor: one major unit (INR 1.00 = 100 paise)."""
    return int(10 ** CURRENCY_EXPONENTS[currency])


def check_minimum(amount: int, currency: str) -> None:
    minimum = minimum_amount(currency)
    if amount < minimum:
        exponent = CURRENCY_EXPONENTS[currency]
        shown = f"1.{'0' * exponent}" if exponent else "1"
        raise invalid_input(f"The amount must be atleast {currency} {shown}", "amount")


def order_input(body: dict[str, Any]) -> OrderInput:
    _reject_extra(
        body,
        {"amount", "currency", "receipt", "notes", "partial_payment", "first_payment_min_amount",
         "payment_capture"},
    )  # fmt: skip
    amount = _integer(body, "amount", required=True)
    assert amount is not None
    currency = _currency(body)
    check_minimum(amount, currency)
    receipt = _string(body, "receipt", max_length=MAX_RECEIPT)
    notes = _notes(body)
    partial = bool(_boolean(body, "partial_payment"))
    first_minimum = _integer(body, "first_payment_min_amount", required=False)
    if first_minimum is not None:
        if not partial:
            raise invalid_input(
                "first_payment_min_amount is/are not required and should not be sent",
                "first_payment_min_amount",
            )
        if not minimum_amount(currency) <= first_minimum <= amount:
            raise invalid_input(
                "The first payment min amount must be between the minimum amount and the amount.",
                "first_payment_min_amount",
            )
    return OrderInput(
        amount=amount,
        currency=currency,
        receipt=receipt,
        notes=notes,
        partial_payment=partial,
        first_payment_min_amount=first_minimum,
        payment_capture=_boolean(body, "payment_capture"),
    )


def capture_input(body: dict[str, Any]) -> CaptureInput:
    _reject_extra(body, {"amount", "currency"})
    amount = _integer(body, "amount", required=True)
    assert amount is not None
    return CaptureInput(amount=amount, currency=_currency(body))


def refund_input(body: dict[str, Any]) -> RefundInput:
    _reject_extra(body, {"amount", "speed", "notes", "receipt"})
    amount = _integer(body, "amount", required=False)
    speed = body.get("speed", "normal")
    if speed not in ("normal", "optimum"):
        raise invalid_input("The selected speed is invalid.", "speed")
    return RefundInput(
        amount=amount,
        speed=str(speed),
        notes=_notes(body),
        receipt=_string(body, "receipt", max_length=MAX_RECEIPT),
    )


def idempotency_key(value: str | None) -> str | None:
    if value is None:
        return None
    if not _IDEMPOTENCY_KEY.match(value):
        raise invalid_input(
            "The idempotency key must be at least 10 characters long and contain only "
            "alphabets, numbers, hyphens and underscores."
        )
    return value


def fingerprint(payment_id: str, body: dict[str, Any]) -> str:
    """What an idempotent retry must repeat exactly: the payment and the body."""
    return json.dumps({"payment_id": payment_id, "body": body}, sort_keys=True, default=str)


def page(count: str | None, skip: str | None) -> tuple[int, int]:
    params = {"count": count, "skip": skip}
    how_many = _integer(params, "count", required=False)
    offset = _integer(params, "skip", required=False)
    how_many = 10 if how_many is None else how_many
    if not 1 <= how_many <= 100:
        raise invalid_input("The count must be between 1 and 100.", "count")
    if offset is not None and offset < 0:
        raise invalid_input("The skip must be at least 0.", "skip")
    return how_many, offset or 0
