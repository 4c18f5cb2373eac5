"""Which currencies payments may use and the amount limits per currency.

What applies is what an ADMIN configured: `admin.system_config` rows
`payments.enabled_currencies`, `payments.limits.<CODE>` and `payments.fees` (see `fees.py`;
exposed by admin's migration 0004), which this service reads through the
read-only view `admin.payment_settings` (created by admin's migration 0003; the documented
exception, like `auth.user_directory`: admin owns the rows and validates every write, payments
only reads). `load_payment_settings` runs on every `createPayment`, inside its transaction: one
statement over a handful of rows, no cache, so a change made with `setSystemConfig` applies to the
very next payment on every replica, without a restart.

`ENABLED_CURRENCIES` / `LIMITS` below are the seeded values (equal to admin's seed; a test keeps
them in step); they do not decide anything at runtime.

Limits apply per creator and currency: each payment's amount is between `minimum` and
`per_transaction`; the amounts a user created today / this month (UTC), leaving out CANCELLED and
FAILED payments, stay within `daily` / `monthly`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from sqlalchemy import Column, MetaData, String, Table, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from shared.fee_rules import FEES_KEY, FeeRules, fee_rules_or_none


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


ENABLED_CURRENCIES_KEY = "payments.enabled_currencies"
LIMITS_PREFIX = "payments.limits."

# admin's read-only view over its `system_config` rows that concern payments.
payment_settings_view = Table(
    "payment_settings",
    MetaData(schema="admin"),
    Column("key", String(128), primary_key=True),
    Column("value", JSONB, nullable=False),
)


@dataclass(frozen=True, slots=True)
class PaymentSettings:
    enabled_currencies: frozenset[str]
    limits: Mapping[str, CurrencyLimits]
    fees: FeeRules = field(default_factory=lambda: MappingProxyType({}))

    def limits_for(self, currency: str) -> CurrencyLimits | None:
        """The limits of an enabled currency; None when it is not enabled (or has no limits)."""
        if currency not in self.enabled_currencies:
            return None
        return self.limits.get(currency)


def _currency_limits(value: Any) -> CurrencyLimits | None:
    """Admin validates every write; a row that still does not parse disables its currency."""
    try:
        return CurrencyLimits(
            minimum=Decimal(value["minimum"]),
            per_transaction=Decimal(value["perTransaction"]),
            daily=Decimal(value["daily"]),
            monthly=Decimal(value["monthly"]),
        )
    except (KeyError, TypeError, InvalidOperation):
        return None


def parse_payment_settings(rows: Mapping[str, Any]) -> PaymentSettings:
    enabled = rows.get(ENABLED_CURRENCIES_KEY)
    limits: dict[str, CurrencyLimits] = {}
    for key, value in rows.items():
        if key.startswith(LIMITS_PREFIX) and (parsed := _currency_limits(value)) is not None:
            limits[key[len(LIMITS_PREFIX) :]] = parsed
    return PaymentSettings(
        enabled_currencies=frozenset(c for c in enabled if isinstance(c, str))
        if isinstance(enabled, list)
        else frozenset(),
        limits=MappingProxyType(limits),
        fees=fee_rules_or_none(rows.get(FEES_KEY)),
    )


async def load_payment_settings(session: AsyncSession) -> PaymentSettings:
    """The configuration as committed now (read in the caller's transaction)."""
    rows = await session.execute(select(payment_settings_view.c.key, payment_settings_view.c.value))
    return parse_payment_settings({key: value for key, value in rows.all()})  # noqa: C416
