"""Fee rules (system config key `payments.fees`): their one strict parser and the arithmetic.

Shared because two services need the same rules: admin validates every `setSystemConfig` write of
`payments.fees` with `parse_fee_rules` (anything wrong is BAD_USER_INPUT, nothing stored) and
payments applies them at payment creation (`subgraphs/payments/fees.py`). Shape:

    {"INR": {"STANDARD": {"percentBps": 200, "fixed": "3.00", "min": "5.00", "max": "500.00"},
             "INSTANT":  {"percentBps": 350, "fixed": "5.00"}}}

`percentBps` an integer 0..10000; `fixed` required, `min`/`max` optional: decimal strings in major
units with at most the currency's minor-unit digits, zero or positive, `min <= max`.

The fee of an amount `A` (minor units) under a rule is

    fee = min(clamp(round_half_up(A * percentBps / 10000) + fixed, min, max), A)

in exact integer arithmetic (no floats): the percentage part rounded half-up to the currency's
minor unit, `min`/`max` bounding it when present, and never more than the amount.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from shared.errors import BadUserInput
from shared.money import normalize_currency, to_minor

FEES_KEY = "payments.fees"
PRIORITIES = ("STANDARD", "INSTANT")
BPS_DENOMINATOR = 10_000


@dataclass(frozen=True, slots=True)
class FeeRule:
    """One currency and priority's rule, amounts in the currency's minor units."""

    percent_bps: int
    fixed_minor: int = 0
    min_minor: int | None = None
    max_minor: int | None = None


def round_half_up(numerator: int, denominator: int) -> int:
    """`numerator / denominator` rounded to the nearest integer, halves away from zero
    (both non-negative here: amounts and fees)."""
    if numerator < 0 or denominator <= 0:
        raise ValueError("round_half_up takes a non-negative numerator and a positive denominator")
    return (2 * numerator + denominator) // (2 * denominator)


def compute_fee(amount_minor: int, rule: FeeRule | None) -> int:
    """The fee, in minor units, of a payment of `amount_minor` under `rule` (0 without one)."""
    if rule is None or amount_minor <= 0:
        return 0
    fee = round_half_up(amount_minor * rule.percent_bps, BPS_DENOMINATOR) + rule.fixed_minor
    if rule.min_minor is not None:
        fee = max(fee, rule.min_minor)
    if rule.max_minor is not None:
        fee = min(fee, rule.max_minor)
    return min(fee, amount_minor)


RULE_FIELDS = frozenset({"percentBps", "fixed", "min", "max"})
MAX_BPS = BPS_DENOMINATOR  # 100 %


def _rule_amount(value: Any, name: str, currency: str, where: str) -> int:
    if not isinstance(value, str):
        raise BadUserInput(f'{where}.{name} must be a decimal string such as "3.00"', field="value")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise BadUserInput(f"{where}.{name} is not a number", field="value") from None
    if not amount.is_finite() or amount < 0:
        raise BadUserInput(f"{where}.{name} must be zero or positive", field="value")
    return to_minor(amount, currency, field="value")


def parse_rule(value: Any, currency: str, where: str) -> FeeRule:
    """One rule, strictly: BAD_USER_INPUT (field `value`) naming what is wrong."""
    if not isinstance(value, Mapping):
        raise BadUserInput(f"{where} must be an object", field="value")
    unknown = set(value) - RULE_FIELDS
    if unknown:
        raise BadUserInput(f"{where} has unknown keys: {', '.join(sorted(unknown))}", field="value")
    bps = value.get("percentBps")
    if isinstance(bps, bool) or not isinstance(bps, int) or not 0 <= bps <= MAX_BPS:
        raise BadUserInput(
            f"{where}.percentBps must be an integer from 0 to {MAX_BPS}", field="value"
        )
    if "fixed" not in value:
        raise BadUserInput(f"{where}.fixed is required", field="value")
    fixed = _rule_amount(value["fixed"], "fixed", currency, where)
    low = _rule_amount(value["min"], "min", currency, where) if "min" in value else None
    high = _rule_amount(value["max"], "max", currency, where) if "max" in value else None
    if low is not None and high is not None and low > high:
        raise BadUserInput(f"{where}.min must not exceed {where}.max", field="value")
    return FeeRule(percent_bps=bps, fixed_minor=fixed, min_minor=low, max_minor=high)


FeeRules = Mapping[tuple[str, str], FeeRule]


def parse_fee_rules(value: Any) -> FeeRules:
    """The whole `payments.fees` value, strictly (see the module docstring for its shape)."""
    if not isinstance(value, Mapping):
        raise BadUserInput("Expected an object keyed by currency code", field="value")
    rules: dict[tuple[str, str], FeeRule] = {}
    for currency, by_priority in value.items():
        if not isinstance(currency, str) or normalize_currency(currency, field="value") != currency:
            raise BadUserInput(f"Unknown currency code {str(currency)[:8]!r}", field="value")
        if not isinstance(by_priority, Mapping) or not by_priority:
            raise BadUserInput(
                f"{currency} must map STANDARD and/or INSTANT to a rule", field="value"
            )
        for priority, rule in by_priority.items():
            if priority not in PRIORITIES:
                raise BadUserInput(
                    f"{currency}: unknown priority {str(priority)[:16]!r} (STANDARD or INSTANT)",
                    field="value",
                )
            rules[(currency, priority)] = parse_rule(rule, currency, f"{currency}.{priority}")
    return MappingProxyType(rules)


def fee_rules_or_none(value: Any) -> FeeRules:
    """What payments applies: the parsed rules, or none when the stored value does not parse."""
    if value is None:
        return MappingProxyType({})
    try:
        return parse_fee_rules(value)
    except BadUserInput:
        return MappingProxyType({})
