"""Razorpay's event envelope and the entities the sidecar reads, typed and tolerant.

Unknown fields are ignored, optional fields may be missing or null, `notes` may be `[]` or `{}`,
`error_code` may be `""` on a payment that did not fail. Amounts are integers in minor units
(a JSON integer or a string of digits; never a float).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

import orjson
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError


class NotAnEvent(ValueError):
    """The body is not a Razorpay event (answered 400)."""


class PayloadError(ValueError):
    """A stored event lacks what its type needs (parked: retrying cannot help)."""


def _minor_units(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("amount must be an integer")
    if isinstance(value, str) and value.isdecimal():
        return int(value)
    if isinstance(value, int):
        return value
    raise ValueError("amount must be an integer in minor units")


def _notes(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _blank_is_none(value: Any) -> Any:
    return None if value == "" else value


MinorUnits = Annotated[int, BeforeValidator(_minor_units), Field(ge=0)]
Notes = Annotated[dict[str, Any], BeforeValidator(_notes)]
OptionalText = Annotated[str | None, BeforeValidator(_blank_is_none)]
_ZERO_IF_NULL = BeforeValidator(lambda v: 0 if v is None else v)


class _Tolerant(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


_T = TypeVar("_T", bound=_Tolerant)


class EventEnvelope(_Tolerant):
    entity: Literal["event"]
    event: str = Field(min_length=3, max_length=64, pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
    payload: dict[str, Any]
    account_id: str | None = None
    created_at: int | None = None


class PaymentEntity(_Tolerant):
    id: str = Field(min_length=1, max_length=64)
    order_id: OptionalText = None
    status: str = Field(min_length=1, max_length=32)
    amount: MinorUnits
    currency: str = Field(min_length=3, max_length=3)
    amount_refunded: Annotated[MinorUnits, _ZERO_IF_NULL] = 0
    error_code: OptionalText = None
    error_description: OptionalText = None
    fee: Annotated[MinorUnits, _ZERO_IF_NULL] = 0  # Razorpay's fee, tax included
    tax: Annotated[MinorUnits, _ZERO_IF_NULL] = 0
    notes: Notes = Field(default_factory=dict)


class RefundEntity(_Tolerant):
    id: str = Field(min_length=1, max_length=64)
    payment_id: str = Field(min_length=1, max_length=64)
    amount: MinorUnits
    currency: str = Field(min_length=3, max_length=3)
    status: str = Field(min_length=1, max_length=32)
    receipt: OptionalText = None
    notes: Notes = Field(default_factory=dict)


def _without_nul(value: Any) -> Any:
    """PostgreSQL's jsonb cannot hold U+0000; such a character becomes U+FFFD."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


def parse_event(raw: bytes) -> tuple[EventEnvelope, dict[str, Any]]:
    """The envelope and the whole body as a dict (what is stored); NotAnEvent otherwise."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise NotAnEvent("body is not JSON") from exc
    if not isinstance(body, dict):
        raise NotAnEvent("body is not a JSON object")
    try:
        envelope = EventEnvelope.model_validate(body)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
        raise NotAnEvent(f"not a Razorpay event ({', '.join(fields)})") from exc
    if b"\\u0000" in raw:
        body = _without_nul(body)
    return envelope, body


def provider_key(envelope: EventEnvelope) -> str | None:
    """Razorpay's own identity of an event, from the signed body: its type, the id and status of
    the entity it is about (`payload.<first part of the type>.entity`, e.g. the payment of
    `payment.captured`, the order of `order.paid`) and its `created_at`. A body re-sent under
    another `X-Razorpay-Event-Id` (the header is not signed) has the same key. None when the body
    names no such entity (nothing to dedupe on beyond the event id)."""
    wrapper = envelope.payload.get(envelope.event.split(".", 1)[0])
    data = wrapper.get("entity") if isinstance(wrapper, dict) else None
    entity_id = data.get("id") if isinstance(data, dict) else None
    if not isinstance(entity_id, str) or not entity_id:
        return None
    status = data.get("status") if isinstance(data, dict) else None
    parts = (envelope.event, entity_id[:64], str(status or "")[:32], str(envelope.created_at or ""))
    return "|".join(parts)


def entity(payload: dict[str, Any], name: str, model: type[_T]) -> _T:
    """`payload.<name>.entity` as `model`, or PayloadError naming what is wrong (no values)."""
    wrapper = payload.get(name)
    data = wrapper.get("entity") if isinstance(wrapper, dict) else None
    if not isinstance(data, dict):
        raise PayloadError(f"payload.{name}.entity is missing")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
        raise PayloadError(f"payload.{name}.entity is invalid: {', '.join(fields)}") from exc
