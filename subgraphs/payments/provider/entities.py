"""Razorpay's entities as typed values (what `razorpay.py` returns and `sync/` applies), and
the result of applying one."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from shared.logging import mask
from subgraphs.payments.models import Payment

security_log = logging.getLogger("bff.security")


@dataclass(frozen=True)
class ProviderOrder:
    """Razorpay's order entity, typed."""

    id: str
    amount_minor: int
    currency: str
    receipt: str | None
    status: str  # created | attempted | paid


@dataclass(frozen=True)
class ProviderPayment:
    """Razorpay's payment entity, typed."""

    id: str
    order_id: str
    status: str  # created | authorized | captured | failed | refunded
    amount_minor: int
    currency: str
    amount_refunded_minor: int
    error_code: str | None = None
    error_description: str | None = None
    # Razorpay's own charge on a captured payment: `fee` includes `tax` (GST); 0 when not given.
    fee_minor: int = 0
    tax_minor: int = 0


@dataclass(frozen=True)
class ProviderRefund:
    """Razorpay's refund entity, typed. `receipt` is our idempotency key when we asked for it."""

    id: str
    payment_id: str
    amount_minor: int
    currency: str
    status: str  # pending | processed | failed
    receipt: str | None = None


@dataclass(frozen=True)
class ApplyResult:
    outcome: Literal["applied", "unchanged", "unknown_order", "mismatch"]
    payment_id: uuid.UUID | None


# Parsing Razorpay's JSON (a ValueError on anything unexpected).


def _int(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} is not an integer")
    return value


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} is not a string")
    return value


def _opt_int(data: Mapping[str, Any], key: str) -> int:
    """An optional non-negative integer (Razorpay's `fee`, `tax`): 0 when missing or null."""
    value = data.get(key)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{key} is not a non-negative integer")
    return value


def _opt(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None


def items(data: Any) -> list[Mapping[str, Any]]:
    found = data.get("items") if isinstance(data, Mapping) else None
    if not isinstance(found, list) or not all(isinstance(i, Mapping) for i in found):
        raise ValueError("not a collection")
    return found


def parse_order(data: Mapping[str, Any]) -> ProviderOrder:
    return ProviderOrder(
        id=_str(data, "id"),
        amount_minor=_int(data, "amount"),
        currency=_str(data, "currency"),
        receipt=_opt(data, "receipt"),
        status=_str(data, "status"),
    )


def parse_payment(data: Mapping[str, Any]) -> ProviderPayment:
    return ProviderPayment(
        id=_str(data, "id"),
        order_id=_str(data, "order_id"),
        status=_str(data, "status"),
        amount_minor=_int(data, "amount"),
        currency=_str(data, "currency"),
        amount_refunded_minor=int(data.get("amount_refunded") or 0),
        error_code=_opt(data, "error_code"),
        error_description=_opt(data, "error_description"),
        fee_minor=_opt_int(data, "fee"),
        tax_minor=_opt_int(data, "tax"),
    )


def parse_refund(data: Mapping[str, Any]) -> ProviderRefund:
    return ProviderRefund(
        id=_str(data, "id"),
        payment_id=_str(data, "payment_id"),
        amount_minor=_int(data, "amount"),
        currency=_str(data, "currency"),
        status=_str(data, "status"),
        receipt=_opt(data, "receipt"),
    )


def log_mismatch(kind: str, row: Payment, provider_id: str, source: str) -> None:
    """A Razorpay entity that does not match our payment: a security event, nothing applied."""
    security_log.warning(
        "razorpay %s does not match our payment",
        kind,
        extra={
            "security_event": "provider_mismatch",
            "payment": mask(str(row.id)),
            "provider_id": mask(provider_id),
            "source": source,
        },
    )
