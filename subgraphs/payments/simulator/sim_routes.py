"""Simulator-only endpoints (`/_sim/...`, not part of Razorpay's API, no auth): play the
customer in Checkout, make Razorpay act late, inject outages, and inspect webhook deliveries."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from subgraphs.payments.simulator.checkout import (
    LateRequest,
    PayRequest,
    WebhookOverrides,
    failure_response,
    handler_response,
    resolve,
)
from subgraphs.payments.simulator.entities import JSON
from subgraphs.payments.simulator.faults import FaultRequest
from subgraphs.payments.simulator.runtime import SimulatorDep
from subgraphs.payments.simulator.validation import CaptureInput
from subgraphs.payments.simulator.webhooks import WebhookOptions

router = APIRouter(prefix="/_sim", tags=["simulator"])


class WaitRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timeout_s: float = Field(default=5.0, gt=0, le=120)


@router.post("/orders/{order_id}/pay")
async def pay(order_id: str, body: PayRequest, simulator: SimulatorDep) -> JSON:
    """One Checkout attempt; answers what Checkout's handler (or failure callback) receives."""
    attempt = resolve(body)
    payment, events = simulator.store.attempt(
        order_id,
        attempt,
        amount=body.amount,
        email=body.email,
        contact=body.contact,
        description=body.description,
        notes=body.notes,
    )
    simulator.webhooks.dispatch(events, body.webhook)
    if payment.status == "failed":
        return failure_response(attempt.failure, order_id, payment.id)
    return dict(handler_response(simulator.key_secret, order_id, payment.id))


@router.post("/payments/{payment_id}/capture-late")
async def capture_late(
    payment_id: str, simulator: SimulatorDep, body: LateRequest | None = None
) -> JSON:
    """Capture an authorized payment now (as a later auto-capture or a dashboard capture)."""
    payment = simulator.store.payment(payment_id)
    captured, events = simulator.store.capture(
        payment_id, CaptureInput(amount=payment.amount, currency=payment.currency)
    )
    simulator.webhooks.dispatch(events, body.webhook if body else None)
    return captured.to_json()


@router.post("/payments/{payment_id}/authorize-late")
async def authorize_late(
    payment_id: str, simulator: SimulatorDep, body: LateRequest | None = None
) -> JSON:
    """A failed payment the bank confirms later; captured too unless `capture` is false
    (default: the order's capture setting)."""
    payment, events = simulator.store.authorize_late(
        payment_id, capture=body.capture if body else None
    )
    simulator.webhooks.dispatch(events, body.webhook if body else None)
    return payment.to_json()


@router.post("/refunds/{refund_id}/fail")
async def fail_refund(
    refund_id: str, simulator: SimulatorDep, body: LateRequest | None = None
) -> JSON:
    refund, events = simulator.store.fail_refund(refund_id)
    simulator.webhooks.dispatch(events, body.webhook if body else None)
    return refund.to_json()


@router.get("/deliveries")
async def deliveries(
    simulator: SimulatorDep, event_id: str | None = None, event: str | None = None
) -> JSON:
    items = [
        record.to_json()
        for record in simulator.webhooks.deliveries
        if (event_id is None or record.event_id == event_id)
        and (event is None or record.event == event)
    ]
    return {"count": len(items), "pending": simulator.webhooks.pending, "items": items}


@router.delete("/deliveries")
async def clear_deliveries(simulator: SimulatorDep) -> JSON:
    simulator.webhooks.deliveries.clear()
    return {"count": 0}


@router.post("/deliveries/wait")
async def wait_for_deliveries(simulator: SimulatorDep, body: WaitRequest | None = None) -> JSON:
    """Wait until every delivery (and retry) has finished, or the timeout passes."""
    pending = await simulator.webhooks.wait_idle((body or WaitRequest()).timeout_s)
    return {"pending": pending}


@router.get("/events")
async def events(simulator: SimulatorDep, event: str | None = None) -> JSON:
    items = [item for item in simulator.webhooks.events if event is None or item["event"] == event]
    return {"count": len(items), "items": items}


@router.get("/faults")
async def current_fault(simulator: SimulatorDep) -> JSON:
    fault = simulator.faults.current
    return {"fault": fault.to_json() if fault else None}


@router.post("/faults")
async def inject_fault(body: FaultRequest, simulator: SimulatorDep) -> JSON:
    fault = simulator.faults.set(body)
    return {"fault": fault.to_json() if fault else None}


@router.get("/webhook-config")
async def webhook_config(simulator: SimulatorDep) -> JSON:
    return simulator.webhooks.defaults.to_json()


@router.put("/webhook-config")
async def set_webhook_config(body: WebhookOverrides, simulator: SimulatorDep) -> JSON:
    """Change the running simulator's delivery defaults (URLs and habits)."""
    simulator.webhooks.defaults = simulator.webhooks.defaults.merged(body)
    return simulator.webhooks.defaults.to_json()


@router.post("/reset")
async def reset(simulator: SimulatorDep) -> dict[str, Any]:
    """Forget every order, payment, refund, idempotency key, event, delivery and fault, and go
    back to the configured webhook defaults."""
    await simulator.webhooks.cancel_pending()
    simulator.store.reset()
    simulator.webhooks.defaults = WebhookOptions.from_settings(simulator.settings)
    simulator.webhooks.deliveries.clear()
    simulator.webhooks.events.clear()
    simulator.faults.set(FaultRequest(mode="none"))
    return {"reset": True}
