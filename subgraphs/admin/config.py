"""System configuration keys and the type of each key's value ("typed rows").

`system_config.value` is JSONB; what a key may hold is declared here, once: the seed in the
migration must satisfy it (a test checks), and the later `setSystemConfig` validates writes with
it (an unknown key or a value of the wrong shape is BAD_USER_INPUT). Money is a Decimal string in
major units, never a JSON number.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from shared.errors import BadUserInput
from shared.fee_rules import FEES_KEY, parse_fee_rules

ENABLED_CURRENCIES_KEY = "payments.enabled_currencies"
LIMITS_PREFIX = "payments.limits."
LIMIT_FIELDS = ("minimum", "perTransaction", "daily", "monthly")

_CURRENCY = re.compile(r"[A-Z]{3}")
_AMOUNT = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,3})?")


def _currency_list(value: Any) -> list[str]:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(c, str) and _CURRENCY.fullmatch(c) for c in value)
        or len(set(value)) != len(value)
    ):
        raise BadUserInput("Expected a non-empty list of distinct ISO 4217 codes", field="value")
    return list(value)


def _amount(value: Any, name: str) -> Decimal:
    if not isinstance(value, str) or not _AMOUNT.fullmatch(value):
        raise BadUserInput(f'{name} must be a decimal string such as "100.00"', field="value")
    try:
        return Decimal(value)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
        raise BadUserInput(f"{name} is not a number", field="value") from None


def _limits(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or set(value) != set(LIMIT_FIELDS):
        raise BadUserInput(f"Expected exactly the keys {', '.join(LIMIT_FIELDS)}", field="value")
    amounts = {name: _amount(value[name], name) for name in LIMIT_FIELDS}
    if not (
        Decimal(0)
        < amounts["minimum"]
        <= amounts["perTransaction"]
        <= amounts["daily"]
        <= amounts["monthly"]
    ):
        raise BadUserInput(
            "Limits must satisfy 0 < minimum <= perTransaction <= daily <= monthly",
            field="value",
        )
    return dict(value)


def _fee_rules(value: Any) -> Any:
    parse_fee_rules(value)  # BAD_USER_INPUT naming the first thing wrong
    return value


@dataclass(frozen=True, slots=True)
class ConfigType:
    description: str
    validate: Callable[[Any], Any]


def config_type(key: str) -> ConfigType:
    """The declared type of a key; BAD_USER_INPUT (field `key`) for a key nobody declared."""
    if key == ENABLED_CURRENCIES_KEY:
        return ConfigType("ISO 4217 codes payments may be created in.", _currency_list)
    if key == FEES_KEY:
        return ConfigType(
            "Platform fees per currency and priority (STANDARD, INSTANT): percentBps, fixed, "
            "optional min and max; charged on payments to a VENDOR.",
            _fee_rules,
        )
    if key.startswith(LIMITS_PREFIX) and _CURRENCY.fullmatch(key[len(LIMITS_PREFIX) :]):
        return ConfigType(
            f"{key[len(LIMITS_PREFIX) :]} payment limits per user: minimum and maximum per "
            "payment, daily and monthly totals.",
            _limits,
        )
    raise BadUserInput(f"Unknown configuration key {key[:64]!r}", field="key")


def validate_config(key: str, value: Any) -> Any:
    return config_type(key).validate(value)


# The values the migration seeds (kept equal by a test, and equal to payments' constants).
DEFAULTS: Mapping[str, Any] = MappingProxyType(
    {
        ENABLED_CURRENCIES_KEY: ["INR", "USD", "EUR", "GBP"],
        "payments.limits.INR": {
            "minimum": "1.00",
            "perTransaction": "500000.00",
            "daily": "1000000.00",
            "monthly": "5000000.00",
        },
        "payments.limits.USD": {
            "minimum": "0.50",
            "perTransaction": "10000.00",
            "daily": "20000.00",
            "monthly": "100000.00",
        },
        "payments.limits.EUR": {
            "minimum": "0.50",
            "perTransaction": "10000.00",
            "daily": "20000.00",
            "monthly": "100000.00",
        },
        "payments.limits.GBP": {
            "minimum": "0.30",
            "perTransaction": "8000.00",
            "daily": "16000.00",
            "monthly": "80000.00",
        },
    }
)
