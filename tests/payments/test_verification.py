"""verifyPayment against the simulator: signatures, audit, refusals that still commit."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from shared.scopes import Role
from tests.helpers import Subgraph, error_codes
from tests.payments.shop import (
    PAYMENT,
    create,
    customer_payment,
    event_types,
    pay,
    start,
    transactions,
    verify,
)
from tests.simulator.support import Sim


def refusal(result: dict[str, object]) -> dict[str, object]:
    errors = result["errors"]
    assert isinstance(errors, list)
    assert len(errors) == 1
    extensions: dict[str, object] = errors[0]["extensions"]
    return extensions


async def test_bad_signature_fails_the_payment_and_is_audited(
    shop: Subgraph, simulator: Sim
) -> None:
    customer, vendor, payment_id = await customer_payment(shop)
    checkout = await start(shop, customer, payment_id)
    handler = pay(simulator, checkout["razorpayOrderId"])
    forged = "0" * 64
    result = await verify(shop, customer, payment_id, handler, razorpaySignature=forged)
    assert refusal(result) == {"code": "BAD_USER_INPUT", "field": "razorpaySignature"}
    # Committed although the mutation failed.
    seen = await shop.ok(PAYMENT, {"id": payment_id}, as_=vendor)
    assert seen["payment"]["status"] == "FAILED"
    rows = await transactions(shop.engine, payment_id)
    attempt = next(r for r in rows if r.kind == "VERIFY_ATTEMPT")
    assert (attempt.status, attempt.details["outcome"]) == ("FAILED", "BAD_SIGNATURE")
    assert attempt.details["signature"] == "0000…0000"  # masked, never stored whole
    assert "payments:verification:attempted" in await event_types(shop.engine, payment_id)
    assert "payments:payment:failed" in await event_types(shop.engine, payment_id)

    # The genuine handler response still completes it (Razorpay captured the money).
    result = await verify(shop, customer, payment_id, handler)
    assert result["data"]["verifyPayment"]["status"] == "COMPLETED"
    changes = [(r.from_status, r.to_status) for r in await transactions(shop.engine, payment_id)]
    assert ("FAILED", "COMPLETED") in changes


async def test_signature_valid_for_another_order(shop: Subgraph, simulator: Sim) -> None:
    customer, _, cheap_id = await customer_payment(shop, "1.00")
    dear_id = await create(shop, customer, "5000.00")
    cheap = pay(simulator, (await start(shop, customer, cheap_id))["razorpayOrderId"])
    dear_order = (await start(shop, customer, dear_id))["razorpayOrderId"]

    # The cheap order's genuine triple, presented for the dear payment.
    result = await verify(shop, customer, dear_id, cheap)
    assert refusal(result) == {"code": "BAD_USER_INPUT", "field": "razorpayOrderId"}
    # With the dear order's id, the cheap payment's signature does not verify.
    result = await verify(shop, customer, dear_id, cheap, razorpayOrderId=dear_order)
    assert refusal(result) == {"code": "BAD_USER_INPUT", "field": "razorpaySignature"}
    rows = await transactions(shop.engine, dear_id)
    outcomes = [r.details["outcome"] for r in rows if r.kind == "VERIFY_ATTEMPT"]
    assert outcomes == ["ORDER_MISMATCH", "BAD_SIGNATURE"]
    assert [r.to_status for r in rows if r.kind == "STATUS_CHANGE"] == ["PROCESSING", "FAILED"]
    assert "COMPLETED" not in [r.to_status for r in rows]


async def test_verify_access(shop: Subgraph, simulator: Sim) -> None:
    customer, vendor, payment_id = await customer_payment(shop)
    handler = pay(simulator, (await start(shop, customer, payment_id))["razorpayOrderId"])
    stranger = await verify(shop, shop.caller(Role.CUSTOMER), payment_id, handler)
    missing = await verify(shop, customer, str(uuid.uuid4()), handler)
    assert error_codes(stranger) == error_codes(missing) == ["NOT_FOUND"]
    assert stranger["errors"][0]["message"] == missing["errors"][0]["message"]
    assert error_codes(await verify(shop, vendor, payment_id, handler)) == ["FORBIDDEN"]
    rows = await transactions(shop.engine, payment_id)
    assert [r.kind for r in rows].count("VERIFY_ATTEMPT") == 0  # nobody else's attempt counts
    assert error_codes(await verify(shop, customer, payment_id, handler)) == []


async def test_verify_before_checkout_and_blank_values(shop: Subgraph) -> None:
    customer, _, payment_id = await customer_payment(shop)
    fake = {
        "razorpay_order_id": "order_x",
        "razorpay_payment_id": "pay_x",
        "razorpay_signature": "s",
    }
    result = await verify(shop, customer, payment_id, fake)
    assert refusal(result) == {"code": "BAD_USER_INPUT", "field": "razorpayOrderId"}
    payment = await shop.ok(PAYMENT, {"id": payment_id}, as_=customer)
    assert payment["payment"]["status"] == "PENDING"
    blank = await verify(shop, customer, payment_id, fake, razorpayPaymentId=" ")
    assert refusal(blank) == {"code": "BAD_USER_INPUT", "field": "razorpayPaymentId"}


async def test_authorized_then_captured_late(shop: Subgraph, simulator: Sim) -> None:
    customer, _, payment_id = await customer_payment(shop)
    checkout = await start(shop, customer, payment_id)
    handler = pay(simulator, checkout["razorpayOrderId"], outcome="authorized")
    result = await verify(shop, customer, payment_id, handler)
    assert result["data"]["verifyPayment"]["status"] == "PROCESSING"
    captured = simulator.http.post(f"/_sim/payments/{handler['razorpay_payment_id']}/capture-late")
    assert captured.status_code == 200
    result = await verify(shop, customer, payment_id, handler)
    assert result["data"]["verifyPayment"]["status"] == "COMPLETED"
    rows = await transactions(shop.engine, payment_id)
    assert [r.details["outcome"] for r in rows if r.kind == "VERIFY_ATTEMPT"] == [
        "PENDING_CAPTURE",
        "VERIFIED",
    ]
    assert [r.kind for r in rows].count("AUTHORIZATION") == 1


async def test_provider_outage_during_verify_is_audited(
    shop: Subgraph, simulator: Sim, faults: Callable[..., None]
) -> None:
    customer, _, payment_id = await customer_payment(shop)
    handler = pay(simulator, (await start(shop, customer, payment_id))["razorpayOrderId"])
    faults("error500", count=None, path_prefix="/v1/payments/")
    result = await verify(shop, customer, payment_id, handler)
    assert error_codes(result) == ["PAYMENT_PROVIDER_ERROR"]
    assert "SERVER_ERROR" not in str(result)
    assert "/v1" not in str(result)
    rows = await transactions(shop.engine, payment_id)
    assert [r.details["outcome"] for r in rows if r.kind == "VERIFY_ATTEMPT"] == ["PROVIDER_ERROR"]
    faults("none")
    result = await verify(shop, customer, payment_id, handler)
    assert result["data"]["verifyPayment"]["status"] == "COMPLETED"
