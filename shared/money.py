"""Exact money: ISO 4217 minor-unit exponents and conversions between major and minor units.

Amounts are stored as integers of minor units (`BIGINT amount_minor`: paise, cents, fils) and
shown as `Decimal` strings in major units. Both directions are exact; an amount with more
precision than its currency has (`"1.005"` INR) is refused, never rounded. Trailing zeros are
not extra precision (`"1.50"` and `"1.5"` are the same INR amount).
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping
from types import MappingProxyType

from shared.errors import BadUserInput

# ISO 4217 minor-unit exponents. Currencies not listed here are refused as unknown.
CURRENCY_EXPONENTS: Mapping[str, int] = MappingProxyType(
    {
        "INR": 2,
        "USD": 2,
        "EUR": 2,
        "GBP": 2,
        "AUD": 2,
        "CAD": 2,
        "SGD": 2,
        "AED": 2,
        "CHF": 2,
        "JPY": 0,
        "KRW": 0,
        "VND": 0,
        "KWD": 3,
        "BHD": 3,
        "OMR": 3,
        "JOD": 3,
        "TND": 3,
    }
)

# The largest value a PostgreSQL BIGINT holds.
MAX_MINOR = 2**63 - 1

# More digits than any accepted input (see shared.scalars) or BIGINT amount: never rounds.
_EXACT = decimal.Context(prec=80, traps=[decimal.Inexact, decimal.InvalidOperation])


def normalize_currency(code: str, *, field: str = "currency") -> str:
    """The upper-case ISO code of a supported currency, or BAD_USER_INPUT."""
    upper = code.strip().upper()
    if upper not in CURRENCY_EXPONENTS:
        raise BadUserInput(f"Unsupported currency {code[:8]!r}", field=field)
    return upper


def exponent(currency: str) -> int:
    """The number of minor-unit digits of a currency (INR 2, JPY 0, KWD 3)."""
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise BadUserInput(f"Unsupported currency {currency[:8]!r}", field="currency") from None


def to_minor(amount: decimal.Decimal, currency: str, *, field: str = "amount") -> int:
    """The exact number of minor units of a major-unit amount; BAD_USER_INPUT when it has more
    decimals than the currency allows or does not fit the store."""
    if not amount.is_finite():
        raise BadUserInput("Amount must be a finite number", field=field)
    places = exponent(currency)
    try:
        scaled = amount.scaleb(places, context=_EXACT)
    except decimal.DecimalException:
        raise BadUserInput("Amount is out of range", field=field) from None
    if scaled != scaled.to_integral_value(context=_EXACT):
        raise BadUserInput(f"{currency} amounts have at most {places} decimal places", field=field)
    minor = int(scaled)
    if abs(minor) > MAX_MINOR:
        raise BadUserInput("Amount is too large", field=field)
    return minor


# One minor unit of each exponent in major units: `Decimal("0.01")` for 2 (`Decimal("1")` for 0).
_MINOR_UNITS = {places: decimal.Decimal(1).scaleb(-places) for places in range(4)}
_multiply = _EXACT.multiply


def to_major(minor: int, currency: str) -> decimal.Decimal:
    """The major-unit amount of `minor` minor units, with exactly the currency's decimals:
    `9999` INR -> `Decimal("99.99")`, `100` INR -> `Decimal("1.00")`, `5` JPY -> `Decimal("5")`.

    `minor` times one minor unit (`Decimal("0.01")`) in the exact context: the coefficient is
    `minor`'s digits and the exponent the unit's, as `Decimal(minor).scaleb(-places)` gives,
    in one operation instead of two (never rounded: the context traps `Inexact`)."""
    places = exponent(currency)
    unit = _MINOR_UNITS.get(places)
    if unit is None:  # an exponent the table lacks (none today)
        return decimal.Decimal(minor).scaleb(-places, context=_EXACT)
    return _multiply(minor, unit)
