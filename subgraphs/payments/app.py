"""The payments subgraph's ASGI app.

Run: `uvicorn --factory subgraphs.payments.app:create_app`.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from shared.app import Resources, create_subgraph_app
from shared.config import PaymentsSettings, Settings, payments_settings
from shared.tokens import TokenVerifier
from subgraphs.payments.consumers import start_consumers, stop_consumers
from subgraphs.payments.context import Context
from subgraphs.payments.live.relay import start_relay, stop_relay
from subgraphs.payments.provider.razorpay import RazorpayGateway
from subgraphs.payments.reconciliation.periodic import reconciler_hooks
from subgraphs.payments.schema import create_schema


def create_app(
    settings: PaymentsSettings | None = None,
    *,
    verifier_factory: Callable[[Settings], TokenVerifier] | None = None,
    gateway: RazorpayGateway | None = None,
) -> FastAPI:
    """`gateway` defaults to one built from the settings (none when no Razorpay keys are set:
    checkout, verification and refunds then answer PAYMENT_PROVIDER_ERROR)."""
    settings = settings or payments_settings()
    if gateway is None and settings.razorpay_key_id and settings.razorpay_key_secret:
        gateway = RazorpayGateway.from_settings(settings)

    class AppContext(Context):
        razorpay = gateway

    async def close_gateway(_: Resources) -> None:
        if gateway is not None:
            gateway.close()

    start_reconciler, stop_reconciler = reconciler_hooks(gateway, settings)
    return create_subgraph_app(
        settings=settings,
        schema_factory=create_schema,
        context_class=AppContext,
        verifier_factory=verifier_factory,
        on_startup=(start_relay, start_consumers, *start_reconciler),
        on_shutdown=(close_gateway, *stop_reconciler, stop_consumers, stop_relay),
    )
