"""The subset of Razorpay's `/v1` API the product calls through the official SDK.

Every route needs HTTP Basic auth with the configured key id and secret.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
from typing import Any

from fastapi import APIRouter, Depends, Header, Request

from subgraphs.payments.simulator.entities import JSON, collection
from subgraphs.payments.simulator.errors import (
    AUTHENTICATION_FAILED,
    NO_API_KEY,
    InjectedFault,
    not_found,
    unauthorized,
)
from subgraphs.payments.simulator.runtime import SimulatorDep
from subgraphs.payments.simulator.validation import (
    capture_input,
    fingerprint,
    idempotency_key,
    order_input,
    page,
    read_body,
    refund_input,
)


async def fault_gate(request: Request, simulator: SimulatorDep) -> None:
    fault = simulator.faults.take(request.url.path)
    if fault is None:
        return
    if fault.mode == "timeout":
        await request.body()  # Razorpay got the whole request; only the answer is late
        await asyncio.sleep(fault.sleep_s)
        return
    raise InjectedFault(fault.mode)


def require_auth(request: Request, simulator: SimulatorDep) -> None:
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if not header:
        raise unauthorized(NO_API_KEY)
    try:
        key_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise unauthorized(AUTHENTICATION_FAILED) from None
    settings = simulator.settings
    good_id = hmac.compare_digest(key_id.encode(), settings.key_id.encode())
    good_secret = hmac.compare_digest(secret.encode(), simulator.key_secret.encode())
    if scheme != "Basic" or not (good_id and good_secret):
        raise unauthorized(AUTHENTICATION_FAILED)


router = APIRouter(prefix="/v1", dependencies=[Depends(fault_gate), Depends(require_auth)])


@router.post("/orders")
async def create_order(request: Request, simulator: SimulatorDep) -> JSON:
    data = order_input(await read_body(request))
    return simulator.store.create_order(data).to_json()


@router.get("/orders")
async def list_orders(
    simulator: SimulatorDep,
    receipt: str | None = None,
    count: str | None = None,
    skip: str | None = None,
) -> JSON:
    how_many, offset = page(count, skip)
    found = simulator.store.list_orders(receipt=receipt, count=how_many, skip=offset)
    return collection([order.to_json() for order in found])


@router.get("/orders/{order_id}")
async def fetch_order(order_id: str, simulator: SimulatorDep) -> JSON:
    return simulator.store.order(order_id).to_json()


@router.get("/orders/{order_id}/payments")
async def order_payments(order_id: str, simulator: SimulatorDep) -> JSON:
    return collection([p.to_json() for p in simulator.store.order_payments(order_id)])


@router.get("/payments/{payment_id}")
async def fetch_payment(payment_id: str, simulator: SimulatorDep) -> JSON:
    return simulator.store.payment(payment_id).to_json()


@router.post("/payments/{payment_id}/capture")
async def capture_payment(payment_id: str, request: Request, simulator: SimulatorDep) -> JSON:
    data = capture_input(await read_body(request))
    payment, events = simulator.store.capture(payment_id, data)
    simulator.webhooks.dispatch(events)
    return payment.to_json()


@router.post("/payments/{payment_id}/refund")
async def refund_payment(
    payment_id: str,
    request: Request,
    simulator: SimulatorDep,
    x_refund_idempotency: str | None = Header(default=None),
) -> JSON:
    body: dict[str, Any] = await read_body(request)
    key = idempotency_key(x_refund_idempotency)
    data = refund_input(body)
    refund, events = simulator.store.create_refund(
        payment_id, data, key=key, fingerprint=fingerprint(payment_id, body)
    )
    simulator.webhooks.dispatch(events)
    return refund.to_json()


@router.get("/payments/{payment_id}/refunds")
async def payment_refunds(
    payment_id: str, simulator: SimulatorDep, count: str | None = None, skip: str | None = None
) -> JSON:
    how_many, offset = page(count, skip)
    found = simulator.store.payment_refunds(payment_id, count=how_many, skip=offset)
    return collection([refund.to_json() for refund in found])


@router.get("/payments/{payment_id}/refunds/{refund_id}")
async def payment_refund(payment_id: str, refund_id: str, simulator: SimulatorDep) -> JSON:
    payment = simulator.store.payment(payment_id)
    refund = simulator.store.refund(refund_id)
    if refund.payment_id != payment.id:
        raise not_found()
    return refund.to_json()


@router.get("/refunds/{refund_id}")
async def fetch_refund(refund_id: str, simulator: SimulatorDep) -> JSON:
    return simulator.store.refund(refund_id).to_json()
