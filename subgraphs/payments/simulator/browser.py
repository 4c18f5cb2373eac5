"""Razorpay Checkout in the browser, simulated (development and tests only).

`GET /v1/checkout.js` serves a stand-in for `https://checkout.razorpay.com/v1/checkout.js` with
the same browser API (`new Razorpay(options)`, `.open()`, `.close()`, `.on('payment.failed', cb)`,
`options.handler`, `options.modal.ondismiss`). Its modal shows the order and two buttons, "Pay now"
and "Fail payment", which call the routes below: the order is paid or failed in the simulator, the
signed webhooks follow as from Razorpay, and the handler receives the triple signed exactly as
Razorpay signs it (hex HMAC-SHA256 of `order_id|payment_id` with the key secret).

The page that loads the script lives on another origin (the MFE), so the app answers CORS
preflights for `RAZORPAY_SIM_CORS_ORIGINS` (see `app.py`).
"""

from __future__ import annotations

import hmac
from importlib import resources
from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict

from subgraphs.payments.simulator import sim_routes
from subgraphs.payments.simulator.checkout import PayRequest
from subgraphs.payments.simulator.entities import JSON
from subgraphs.payments.simulator.errors import RazorpayError
from subgraphs.payments.simulator.runtime import Simulator, SimulatorDep

router = APIRouter(tags=["checkout"])

# Razorpay's Checkout answers a key it does not know with this message.
INVALID_KEY = "The api key provided is invalid"


def checkout_script() -> str:
    return (resources.files(__package__) / "static" / "checkout.js").read_text(encoding="utf-8")


class CheckoutAttempt(BaseModel):
    """What the modal sends: the key the merchant page opened Checkout with, and the button."""

    model_config = ConfigDict(extra="forbid")

    key_id: str
    outcome: Literal["success", "failure"]


def _check_key(simulator: Simulator, key_id: str) -> None:
    if not hmac.compare_digest(key_id.encode(), simulator.settings.key_id.encode()):
        raise RazorpayError(INVALID_KEY, status=401)


@router.get("/v1/checkout.js", include_in_schema=False)
async def script() -> Response:
    return Response(
        checkout_script(),
        media_type="application/javascript",
        headers={"cache-control": "no-cache"},
    )


@router.get("/_sim/checkout/orders/{order_id}")
async def order_summary(order_id: str, key_id: str, simulator: SimulatorDep) -> JSON:
    """What the modal shows (amount due, currency, status); a wrong key or order is refused."""
    _check_key(simulator, key_id)
    order = simulator.store.order(order_id)
    return {
        "id": order.id,
        "amount": order.amount,
        "amount_due": order.amount_due,
        "currency": order.currency,
        "status": order.status,
    }


@router.post("/_sim/checkout/orders/{order_id}/pay")
async def pay(order_id: str, body: CheckoutAttempt, simulator: SimulatorDep) -> JSON:
    """The customer pressed "Pay now" (card 4111 1111 1111 1111) or "Fail payment" (a card the
    bank declines): the handler's triple, or Checkout's `payment.failed` object."""
    _check_key(simulator, key_id=body.key_id)
    attempt = PayRequest(outcome=body.outcome, method="card")
    return await sim_routes.pay(order_id, attempt, simulator)
