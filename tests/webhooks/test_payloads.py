"""The envelope and entities, read tolerantly: Razorpay's quirks pass, non-events do not."""

from __future__ import annotations

import json
from typing import Any

import pytest

from subgraphs.payments.webhooks.payloads import (
    NotAnEvent,
    PayloadError,
    PaymentEntity,
    RefundEntity,
    entity,
    parse_event,
)
from tests.webhooks.factories import event, order_entity, payment_entity, refund_entity


def raw(body: Any) -> bytes:
    return json.dumps(body).encode()


def test_parse_event_keeps_the_whole_body() -> None:
    body = event(
        "order.paid",
        payment=payment_entity(order_id="order_1"),
        order=order_entity(order_id="order_1", amount=100),
    )
    body["x_new_field"] = [1, 2]

    envelope, stored = parse_event(raw(body))

    assert envelope.event == "order.paid"
    assert envelope.account_id == body["account_id"]
    assert stored == body


def test_nul_characters_are_replaced_for_jsonb() -> None:
    body = event("payment.captured", payment=payment_entity(order_id="o", description="a\x00b"))
    body["payload"]["k\x00"] = ["x\x00"]

    _, stored = parse_event(raw(body))

    assert stored["payload"]["payment"]["entity"]["description"] == "a\ufffdb"
    assert stored["payload"]["k\ufffd"] == ["x\ufffd"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{", "body is not JSON"),
        (b"[]", "body is not a JSON object"),
        (b'{"entity":"event","event":"payment.captured"}', "not a Razorpay event (payload)"),
        (b'{"entity":"event","event":"PAYMENT","payload":{}}', "not a Razorpay event (event)"),
        (b'{"entity":"order","event":"a.b","payload":{}}', "not a Razorpay event (entity)"),
    ],
)
def test_not_an_event(body: bytes, message: str) -> None:
    with pytest.raises(NotAnEvent, match=rf"^{message.replace('(', '[(]').replace(')', '[)]')}$"):
        parse_event(body)


@pytest.mark.parametrize(
    ("notes", "expected"), [([], {}), ({}, {}), (None, {}), ({"a": "b"}, {"a": "b"}), (["x"], {})]
)
def test_notes_in_any_shape(notes: Any, expected: dict[str, Any]) -> None:
    parsed = PaymentEntity.model_validate(payment_entity(order_id="o", notes=notes))
    assert parsed.notes == expected


def test_payment_entity_tolerates_missing_and_blank_optional_fields() -> None:
    data = payment_entity(order_id="", error_code="", error_description="", amount_refunded=None)
    for name in ("fee", "tax", "acquirer_data", "notes", "error_source"):
        data.pop(name)

    parsed = PaymentEntity.model_validate(data)

    assert parsed.order_id is None
    assert parsed.error_code is None
    assert parsed.error_description is None
    assert parsed.amount_refunded == 0


def test_failed_payment_carries_its_error() -> None:
    parsed = PaymentEntity.model_validate(payment_entity(order_id="o", status="failed"))
    assert (parsed.error_code, parsed.error_description) == ("BAD_REQUEST_ERROR", "Payment failed")


@pytest.mark.parametrize(
    ("amount", "ok"),
    [
        (100, True),
        ("100", True),
        (0, True),
        (1.0, False),
        (1.5, False),
        (True, False),
        (-1, False),
        ("1e3", False),
        (None, False),
    ],
)
def test_amounts_are_integers_in_minor_units(amount: Any, ok: bool) -> None:
    data = refund_entity(payment_id="pay_1", amount=100)
    data["amount"] = amount
    if ok:
        assert RefundEntity.model_validate(data).amount == int(amount)
    else:
        with pytest.raises(ValueError, match="amount"):
            RefundEntity.model_validate(data)


def test_entity_names_what_is_wrong_without_values() -> None:
    with pytest.raises(PayloadError, match=r"^payload\.payment\.entity is missing$"):
        entity({"payment": {"entity": []}}, "payment", PaymentEntity)
    with pytest.raises(PayloadError, match=r"^payload\.payment\.entity is missing$"):
        entity({"payment": "pay_1"}, "payment", PaymentEntity)
    with pytest.raises(PayloadError, match=r"is invalid: amount, currency$") as info:
        entity(
            {
                "payment": {
                    "entity": {"id": "pay_SECRETISH", "status": "captured", "amount": "lots"}
                }
            },
            "payment",
            PaymentEntity,
        )
    assert "SECRETISH" not in str(info.value)
    assert "lots" not in str(info.value)
