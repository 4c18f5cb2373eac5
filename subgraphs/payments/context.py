"""The payments request context: the shared one plus per-request loaders and the app's
Razorpay gateway (set on the app's own subclass by `app.create_app`)."""

from __future__ import annotations

from typing import Any, ClassVar

from shared.context import RequestContext
from shared.errors import PaymentProviderError
from subgraphs.payments.loaders import Loaders
from subgraphs.payments.provider.razorpay import RazorpayGateway


class Context(RequestContext):
    razorpay: ClassVar[RazorpayGateway | None] = None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.loaders = Loaders(self.db)

    def gateway(self) -> RazorpayGateway:
        """The Razorpay gateway, or PAYMENT_PROVIDER_ERROR when no Razorpay keys are set."""
        if self.razorpay is None:
            raise PaymentProviderError("Payments are not configured on this server")
        return self.razorpay
