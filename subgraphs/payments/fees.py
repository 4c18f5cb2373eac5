"""Platform fees on payments: the rule of a payment's currency and priority, applied once.

The rules and their arithmetic are `shared.fee_rules` (admin validates `payments.fees` with the
same parser on every write). Payments reads the key through the view `admin.payment_settings` in
the creating transaction (`lifecycle.limits.load_payment_settings`), so a change applies to the next
payment. Only a payment whose payee is a VENDOR is charged; without a payee or without a rule for
its currency and priority the fee is 0. `fee_minor` is stored on the payment at creation and never
recomputed: a later change of the rules leaves existing payments alone, and `netAmount` is always
`amount - fee`.
"""

from __future__ import annotations

import uuid

from shared.fee_rules import FeeRules, compute_fee
from subgraphs.payments.enums import PaymentPriority


def fee_for(
    *,
    rules: FeeRules,
    amount_minor: int,
    currency: str,
    priority: PaymentPriority,
    payee_id: uuid.UUID | None,
) -> int:
    """The platform fee (minor units) a new payment is charged."""
    if payee_id is None:
        return 0
    return compute_fee(amount_minor, rules.get((currency, priority.name)))
