"""Applying Razorpay's view of a payment or a refund to ours: the one idempotent path."""

from subgraphs.payments.provider.entities import ApplyResult, ProviderPayment, ProviderRefund
from subgraphs.payments.sync.payments import apply_provider_payment
from subgraphs.payments.sync.refunds import apply_provider_refund

__all__ = [
    "ApplyResult",
    "ProviderPayment",
    "ProviderRefund",
    "apply_provider_payment",
    "apply_provider_refund",
]
