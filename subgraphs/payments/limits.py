"""Which currencies payments may use and the amount limits per currency.

These equal the rows the admin subgraph seeds in `admin.system_config`
(`payments.enabled_currencies`, `payments.limits.<CODE>`; a test keeps the two in step). A later
issue makes them editable: admin then publishes `admin:config:updated` and this service applies
it; until then they are constants.

Limits apply per creator and currency: each payment's amount is between `minimum` and
`per_transaction`; the amounts a user created today / this month (UTC), leaving out CANCELLED and
FAILED payments, stay within `daily` / `monthly`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class CurrencyLimits:
    minimum: Decimal
    per_transaction: Decimal
    daily: Decimal
    monthly: Decimal


ENABLED_CURRENCIES: frozenset[str] = frozenset({"INR", "USD", "EUR", "GBP"})

LIMITS: Mapping[str, CurrencyLimits] = MappingProxyType(
    {
        "INR": CurrencyLimits(
            Decimal("1.00"), Decimal("500000.00"), Decimal("1000000.00"), Decimal("5000000.00")
        ),
        "USD": CurrencyLimits(
            Decimal("0.50"), Decimal("10000.00"), Decimal("20000.00"), Decimal("100000.00")
        ),
        "EUR": CurrencyLimits(
            Decimal("0.50"), Decimal("10000.00"), Decimal("20000.00"), Decimal("100000.00")
        ),
        "GBP": CurrencyLimits(
            Decimal("0.30"), Decimal("8000.00"), Decimal("16000.00"), Decimal("80000.00")
        ),
    }
)
