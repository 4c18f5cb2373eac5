"""Razorpay-shaped identifiers: a prefix, an underscore and 14 base62 characters."""

from __future__ import annotations

import re
import secrets
import string

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_ID = re.compile(r"^[0-9A-Za-z]{14}$")


def token(length: int = 14) -> str:
    return "".join(secrets.choice(BASE62) for _ in range(length))


def new_id(prefix: str) -> str:
    """`order_` / `pay_` / `rfnd_` / `card_` + 14 base62 characters, as Razorpay issues them."""
    return f"{prefix}_{token()}"


def is_valid(prefix: str, value: str) -> bool:
    head, _, tail = value.partition("_")
    return head == prefix and bool(_ID.match(tail))


def digits(length: int) -> str:
    """A random string of decimal digits (bank reference numbers, auth codes)."""
    return "".join(secrets.choice(string.digits) for _ in range(length))
