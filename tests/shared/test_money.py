"""Exact money conversions (property tests) and the currency table."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.errors import BadUserInput
from shared.money import (
    CURRENCY_EXPONENTS,
    MAX_MINOR,
    exponent,
    normalize_currency,
    to_major,
    to_minor,
)

currencies = st.sampled_from(sorted(CURRENCY_EXPONENTS))
minor_amounts = st.integers(min_value=-MAX_MINOR, max_value=MAX_MINOR)


def test_exponents_follow_iso_4217() -> None:
    assert {c: exponent(c) for c in ("INR", "USD", "EUR", "GBP", "JPY", "KWD", "BHD")} == {
        "INR": 2,
        "USD": 2,
        "EUR": 2,
        "GBP": 2,
        "JPY": 0,
        "KWD": 3,
        "BHD": 3,
    }


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("99.99", "INR", 9999),
        ("1", "INR", 100),
        ("1.5", "INR", 150),
        ("1.50", "INR", 150),
        ("500", "JPY", 500),
        ("1.234", "KWD", 1234),
        ("0.001", "BHD", 1),
    ],
)
def test_to_minor_examples(amount: str, currency: str, minor: int) -> None:
    assert to_minor(Decimal(amount), currency) == minor


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (9999, "INR", "99.99"),
        (100, "INR", "1.00"),
        (0, "USD", "0.00"),
        (5, "JPY", "5"),
        (1234, "KWD", "1.234"),
    ],
)
def test_to_major_has_exactly_the_currency_decimals(minor: int, currency: str, text: str) -> None:
    assert format(to_major(minor, currency), "f") == text


@given(minor=minor_amounts, currency=currencies)
def test_minor_major_round_trip_is_exact(minor: int, currency: str) -> None:
    major = to_major(minor, currency)
    assert to_minor(major, currency) == minor
    assert -major.as_tuple().exponent == exponent(currency)  # type: ignore[operator]


@given(
    minor=st.integers(min_value=0, max_value=10**15),
    extra=st.integers(min_value=1, max_value=9),
    currency=currencies,
)
def test_more_decimals_than_the_exponent_are_refused(minor: int, extra: int, currency: str) -> None:
    # One more non-zero digit than the currency has.
    amount = Decimal(minor * 10 + extra).scaleb(-(exponent(currency) + 1))
    with pytest.raises(BadUserInput) as caught:
        to_minor(amount, currency)
    assert caught.value.extensions == {"field": "amount"}


@given(
    value=st.decimals(
        allow_nan=False, allow_infinity=False, places=2, max_value=10**12, min_value=-(10**12)
    )
)
def test_two_decimal_values_round_trip_in_inr(value: Decimal) -> None:
    assert to_major(to_minor(value, "INR"), "INR") == value


def test_unknown_and_oversized_amounts_are_refused() -> None:
    with pytest.raises(BadUserInput):
        exponent("XYZ")
    with pytest.raises(BadUserInput):
        normalize_currency("xyz")
    assert normalize_currency(" inr ") == "INR"
    with pytest.raises(BadUserInput, match="too large"):
        to_minor(Decimal(MAX_MINOR + 1), "JPY")
    with pytest.raises(BadUserInput, match="finite"):
        to_minor(Decimal("NaN"), "INR")
    with pytest.raises(BadUserInput, match="out of range"):
        to_minor(Decimal("9" * 89 + "1"), "INR")
