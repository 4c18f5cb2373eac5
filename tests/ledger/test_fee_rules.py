"""Fee rules: the strict parser (what admin accepts) and the arithmetic, with property tests."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.errors import BadUserInput
from shared.fee_rules import FeeRule, compute_fee, parse_fee_rules, round_half_up
from shared.money import MAX_MINOR

amounts = st.integers(min_value=1, max_value=10**15)
bps = st.integers(min_value=0, max_value=10_000)
small = st.integers(min_value=0, max_value=10**9)
rules = st.builds(
    FeeRule,
    percent_bps=bps,
    fixed_minor=small,
    min_minor=st.none() | small,
    max_minor=st.none() | small,
).filter(lambda r: r.min_minor is None or r.max_minor is None or r.min_minor <= r.max_minor)


def reference_fee(amount: int, rule: FeeRule) -> int:
    """The same rule computed another way: Decimal quantize with ROUND_HALF_UP."""
    percent = (Decimal(amount) * Decimal(rule.percent_bps) / Decimal(10_000)).quantize(
        Decimal(1), rounding=ROUND_HALF_UP
    )
    fee = int(percent) + rule.fixed_minor
    if rule.min_minor is not None and fee < rule.min_minor:
        fee = rule.min_minor
    if rule.max_minor is not None and fee > rule.max_minor:
        fee = rule.max_minor
    return fee if fee <= amount else amount


@given(amounts, rules)
def test_fee_matches_an_independent_decimal_computation(amount: int, rule: FeeRule) -> None:
    assert compute_fee(amount, rule) == reference_fee(amount, rule)


@given(amounts, rules)
def test_fee_is_never_negative_nor_above_the_amount(amount: int, rule: FeeRule) -> None:
    fee = compute_fee(amount, rule)
    assert 0 <= fee <= amount


@given(amounts, rules)
def test_fee_respects_min_and_max_unless_capped_by_the_amount(amount: int, rule: FeeRule) -> None:
    fee = compute_fee(amount, rule)
    if rule.max_minor is not None:
        assert fee <= rule.max_minor
    if rule.min_minor is not None:
        assert fee >= min(rule.min_minor, amount)


@given(amounts, amounts, bps)
def test_fee_grows_with_the_amount(a: int, b: int, percent: int) -> None:
    rule = FeeRule(percent_bps=percent)
    low, high = sorted((a, b))
    assert compute_fee(low, rule) <= compute_fee(high, rule)


@given(st.integers(min_value=0, max_value=MAX_MINOR), st.integers(min_value=1, max_value=10**6))
def test_round_half_up_is_within_half_and_rounds_halves_up(n: int, d: int) -> None:
    exact = Fraction(n, d)
    rounded = round_half_up(n, d)
    assert abs(rounded - exact) <= Fraction(1, 2)
    if exact - int(exact) == Fraction(1, 2):
        assert rounded == int(exact) + 1


def test_known_values() -> None:
    # 2.5 % of 99.99 INR = 249.975 paise -> 250; + 3.00 fixed -> 5.50.
    assert compute_fee(9999, FeeRule(percent_bps=250, fixed_minor=300)) == 550
    # exactly half a paisa rounds up: 0.5 % of 1.01 = 0.505 paise -> 1
    assert compute_fee(101, FeeRule(percent_bps=50)) == 1
    # min and max
    assert compute_fee(100, FeeRule(percent_bps=100, min_minor=30)) == 30
    assert compute_fee(10**9, FeeRule(percent_bps=100, max_minor=5000)) == 5000
    # never above the amount (a 1-yen payment with a 30-yen fixed fee)
    assert compute_fee(1, FeeRule(percent_bps=0, fixed_minor=30)) == 1
    assert compute_fee(1000, None) == 0


def test_parse_rules_of_0_2_and_3_decimal_currencies() -> None:
    parsed = parse_fee_rules(
        {
            "INR": {
                "STANDARD": {"percentBps": 200, "fixed": "3.00", "min": "5", "max": "500.00"},
                "INSTANT": {"percentBps": 350, "fixed": "5.5"},
            },
            "JPY": {"STANDARD": {"percentBps": 100, "fixed": "30"}},
            "KWD": {"INSTANT": {"percentBps": 0, "fixed": "0.125"}},
        }
    )
    assert parsed[("INR", "STANDARD")] == FeeRule(200, 300, 500, 50000)
    assert parsed[("INR", "INSTANT")] == FeeRule(350, 550)
    assert parsed[("JPY", "STANDARD")] == FeeRule(100, 30)
    assert parsed[("KWD", "INSTANT")] == FeeRule(0, 125)


@pytest.mark.parametrize(
    "value",
    [
        [],
        "fees",
        {"XXX": {"STANDARD": {"percentBps": 1, "fixed": "0"}}},
        {"inr": {"STANDARD": {"percentBps": 1, "fixed": "0"}}},
        {"INR": {}},
        {"INR": {"EXPRESS": {"percentBps": 1, "fixed": "0"}}},
        {"INR": {"STANDARD": {"percentBps": -1, "fixed": "0"}}},
        {"INR": {"STANDARD": {"percentBps": 10_001, "fixed": "0"}}},
        {"INR": {"STANDARD": {"percentBps": 1.5, "fixed": "0"}}},
        {"INR": {"STANDARD": {"percentBps": True, "fixed": "0"}}},
        {"INR": {"STANDARD": {"percentBps": 1}}},
        {"INR": {"STANDARD": {"percentBps": 1, "fixed": 3}}},
        {"INR": {"STANDARD": {"percentBps": 1, "fixed": "0.001"}}},
        {"JPY": {"STANDARD": {"percentBps": 1, "fixed": "0.5"}}},
        {"INR": {"STANDARD": {"percentBps": 1, "fixed": "-1"}}},
        {"INR": {"STANDARD": {"percentBps": 1, "fixed": "NaN"}}},
        {"INR": {"STANDARD": {"percentBps": 1, "fixed": "abc"}}},
        {"INR": {"STANDARD": {"percentBps": 1, "fixed": "0", "min": "5", "max": "4"}}},
        {"INR": {"STANDARD": {"percentBps": 1, "fixed": "0", "cap": "4"}}},
        {"INR": {"STANDARD": [1, 2]}},
    ],
)
def test_bad_rules_are_bad_user_input(value: object) -> None:
    with pytest.raises(BadUserInput) as raised:
        parse_fee_rules(value)
    assert raised.value.extensions["field"] == "value"
