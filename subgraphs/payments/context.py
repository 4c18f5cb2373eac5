"""The payments request context and what its app is built with (`PaymentsDeps`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from shared.config import PaymentsSettings
from shared.context import SubgraphContext, SubgraphDeps, VerifierFactory
from shared.errors import PaymentProviderError
from subgraphs.payments.ledger.balances import SettlementDelays
from subgraphs.payments.live.hub import LiveUpdates
from subgraphs.payments.loaders import Loaders
from subgraphs.payments.provider.razorpay import RazorpayGateway


@dataclass(frozen=True, kw_only=True)
class PaymentsDeps(SubgraphDeps):
    """The Razorpay gateway; None when no Razorpay keys are set (checkout, verification and
    refunds then answer PAYMENT_PROVIDER_ERROR, and no reconciler runs). `live`: the process's
    live-update listener (a background part of the app, see `live/hub.py`). `settlement`: how
    long a vendor's captured money stays pending (`myBalances`)."""

    gateway: RazorpayGateway | None = None
    live: LiveUpdates = field(default_factory=LiveUpdates)
    settlement: SettlementDelays = field(default_factory=SettlementDelays)

    @classmethod
    def from_settings(
        cls, settings: PaymentsSettings, *, verifier_factory: VerifierFactory | None = None
    ) -> PaymentsDeps:
        configured = settings.razorpay_key_id and settings.razorpay_key_secret
        return cls(
            gateway=RazorpayGateway.from_settings(settings) if configured else None,
            verifier_factory=verifier_factory,
            settlement=SettlementDelays(
                standard=timedelta(seconds=settings.settlement_delay_standard_seconds),
                instant=timedelta(seconds=settings.settlement_delay_instant_seconds),
            ),
        )

    def close(self) -> None:
        if self.gateway is not None:
            self.gateway.close()


class Context(SubgraphContext[PaymentsDeps]):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.loaders = Loaders(self.db)
        # Live subscriptions of this WebSocket connection (the context lives as long as it).
        self.live_subscriptions = 0

    def gateway(self) -> RazorpayGateway:
        """The Razorpay gateway, or PAYMENT_PROVIDER_ERROR when no Razorpay keys are set."""
        if self.deps.gateway is None:
            raise PaymentProviderError("Payments are not configured on this server")
        return self.deps.gateway
