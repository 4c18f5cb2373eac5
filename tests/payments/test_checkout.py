"""startCheckout and the customer's whole flow, in-process against the Razorpay simulator."""

from __future__ import annotations

import asyncio
import uuid

from shared.scopes import Role
from tests.helpers import Subgraph, error_codes
from tests.payments.people import member
from tests.payments.shop import (
    PAYMENT,
    START,
    create,
    customer_payment,
    event_types,
    pay,
    start,
    transactions,
    verify,
)
from tests.simulator.support import KEY_ID, Sim


async def test_customer_flow_create_checkout_pay_verify(shop: Subgraph, simulator: Sim) -> None:
    customer, vendor, payment_id = await customer_payment(shop, "99.99")
    checkout = await start(shop, customer, payment_id)
    assert checkout["paymentId"] == payment_id
    assert checkout["razorpayKeyId"] == KEY_ID
    assert (checkout["amount"], checkout["amountMinor"], checkout["currency"]) == (
        "99.99",
        9999,
        "INR",
    )
    assert checkout["payment"]["status"] == "PROCESSING"
    order = simulator.rzp.order.fetch(checkout["razorpayOrderId"])
    assert (order["amount"], order["currency"]) == (9999, "INR")
    assert order["notes"] == {"paymentId": payment_id, "userId": str(customer.id)}
    assert 0 < len(order["receipt"]) <= 40

    handler = pay(simulator, checkout["razorpayOrderId"])
    result = await verify(shop, customer, payment_id, handler)
    done = result["data"]["verifyPayment"]
    assert (done["status"], done["razorpayPaymentId"]) == (
        "COMPLETED",
        handler["razorpay_payment_id"],
    )
    assert done["razorpayOrderId"] == checkout["razorpayOrderId"]
    assert [(t["kind"], t["toStatus"]) for t in done["transactions"]] == [
        ("CREATE", "PENDING"),
        ("CHECKOUT", None),
        ("STATUS_CHANGE", "PROCESSING"),
        ("CAPTURE", None),
        ("STATUS_CHANGE", "COMPLETED"),
        ("VERIFY_ATTEMPT", None),
    ]
    assert sorted(await event_types(shop.engine, payment_id)) == [
        "payments:payment:completed",
        "payments:payment:created",
        "payments:payment:updated",
        "payments:verification:attempted",
    ]
    # The payee sees it completed too.
    seen = await shop.ok(PAYMENT, {"id": payment_id}, as_=vendor)
    assert seen["payment"]["status"] == "COMPLETED"

    # Verifying again returns the payment and is audited, without a second transition.
    again = await verify(shop, customer, payment_id, handler)
    assert again["data"]["verifyPayment"]["status"] == "COMPLETED"
    rows = await transactions(shop.engine, payment_id)
    assert [r.to_status for r in rows if r.kind == "STATUS_CHANGE"] == ["PROCESSING", "COMPLETED"]
    attempts = [r.details["outcome"] for r in rows if r.kind == "VERIFY_ATTEMPT"]
    assert attempts == ["VERIFIED", "ALREADY_VERIFIED"]


async def test_vendor_initiated_flow(shop: Subgraph, simulator: Sim) -> None:
    vendor, customer = shop.caller(Role.VENDOR), await member(shop, Role.CUSTOMER)
    payment_id = await create(shop, vendor, "1500.00", payerId=str(customer.id))
    refused = await shop.gql(START, {"id": payment_id}, as_=vendor)
    assert error_codes(refused) == ["FORBIDDEN"]  # the vendor sees it but does not pay it
    checkout = await start(shop, customer, payment_id)
    assert checkout["amountMinor"] == 150000
    handler = pay(simulator, checkout["razorpayOrderId"], method="upi", vpa="success@razorpay")
    result = await verify(shop, customer, payment_id, handler)
    assert result["data"]["verifyPayment"]["status"] == "COMPLETED"
    assert result["data"]["verifyPayment"]["payee"] == {"id": str(vendor.id)}


async def test_checkout_is_idempotent_while_the_order_is_open(
    shop: Subgraph, simulator: Sim
) -> None:
    customer, _, payment_id = await customer_payment(shop)
    first, second = await asyncio.gather(
        start(shop, customer, payment_id), start(shop, customer, payment_id)
    )
    assert first["razorpayOrderId"] == second["razorpayOrderId"]
    receipt = simulator.rzp.order.fetch(first["razorpayOrderId"])["receipt"]
    assert len(simulator.rzp.order.all({"receipt": receipt})["items"]) == 1
    # A failed attempt keeps the order open: Checkout may try again on it.
    failure = simulator.http.post(
        f"/_sim/orders/{first['razorpayOrderId']}/pay", json={"outcome": "failure"}
    )
    assert failure.status_code == 200
    third = await start(shop, customer, payment_id)
    assert third["razorpayOrderId"] == first["razorpayOrderId"]
    rows = await transactions(shop.engine, payment_id)
    assert [r.kind for r in rows].count("CHECKOUT") == 1


async def test_checkout_access_and_states(shop: Subgraph) -> None:
    customer, vendor, payment_id = await customer_payment(shop)
    stranger = await shop.gql(START, {"id": payment_id}, as_=shop.caller(Role.CUSTOMER))
    missing = await shop.gql(START, {"id": str(uuid.uuid4())}, as_=customer)
    assert error_codes(stranger) == error_codes(missing) == ["NOT_FOUND"]
    assert stranger["errors"][0]["message"] == missing["errors"][0]["message"]
    assert error_codes(await shop.gql(START, {"id": payment_id}, as_=vendor)) == ["FORBIDDEN"]
    admin = await shop.gql(START, {"id": payment_id}, as_=shop.caller(Role.ADMIN))
    assert error_codes(admin) == ["FORBIDDEN"]
    assert error_codes(await shop.gql(START, {"id": payment_id})) == ["UNAUTHENTICATED"]
    malformed = await shop.gql(START, {"id": "nope"}, as_=customer)
    assert malformed["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "paymentId"}
    cancel = "mutation X($id: ID!) { cancelPayment(id: $id) { status } }"
    await shop.ok(cancel, {"id": payment_id}, as_=customer)
    assert error_codes(await shop.gql(START, {"id": payment_id}, as_=customer)) == ["CONFLICT"]


async def test_without_razorpay_keys_checkout_is_a_provider_error(payments: Subgraph) -> None:
    customer = payments.caller(Role.CUSTOMER)
    payment_id = await create(payments, customer)
    result = await payments.gql(START, {"id": payment_id}, as_=customer)
    assert error_codes(result) == ["PAYMENT_PROVIDER_ERROR"]
