"""The payments subgraph's ASGI app.

Run: `uvicorn --factory subgraphs.payments.app:create_app`.
"""

from __future__ import annotations

from fastapi import FastAPI

from shared.app import create_subgraph_app
from shared.config import PaymentsSettings, payments_settings
from shared.consumers import ConsumerTasks
from shared.lifetime import Background
from subgraphs.payments.consumers import CONSUMERS
from subgraphs.payments.context import Context, PaymentsDeps
from subgraphs.payments.ledger.nightly import LedgerVerifierTask
from subgraphs.payments.live.relay import relay_task
from subgraphs.payments.reconciliation.ledger import LedgerReconcilerTask
from subgraphs.payments.reconciliation.periodic import ReconcilerTask
from subgraphs.payments.schema import create_schema


def create_app(
    settings: PaymentsSettings | None = None, *, deps: PaymentsDeps | None = None
) -> FastAPI:
    """`deps` defaults to `PaymentsDeps.from_settings` (a gateway when Razorpay keys are set)."""
    settings = settings or payments_settings()
    deps = deps or PaymentsDeps.from_settings(settings)
    verifier = LedgerVerifierTask(settings)
    background: list[Background] = [relay_task(), ConsumerTasks(CONSUMERS), deps.live, verifier]
    if deps.gateway is not None:
        background.append(ReconcilerTask(deps.gateway, settings))
        background.append(LedgerReconcilerTask(deps.gateway, settings))

    def details() -> dict[str, object]:
        """Operational signals for `/readyz` (and the admin `systemHealth`)."""
        gateway = deps.gateway
        return {
            "liveSubscriptions": deps.live.subscriber_count,
            "razorpay": (
                {"configured": False}
                if gateway is None
                else {"configured": True, "circuit": gateway.breaker.state.value}
            ),
        }

    app = create_subgraph_app(
        settings=settings,
        schema_factory=create_schema,
        context_class=Context,
        deps=deps,
        background=background,
        readiness_details=details,
    )
    verifier.metrics.register(app.state.metrics_registry)
    return app
