"""Exact money conversions (property tests) and the currency table."""

from __future__ import annotations

import decimal
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
        (0, "INR", "0.00"),
        (0, "JPY", "0"),
        (0, "KWD", "0.000"),
        (1, "INR", "0.01"),
        (-1, "INR", "-0.01"),
        (-9999, "INR", "-99.99"),
        (-5, "JPY", "-5"),
        (-1234, "KWD", "-1.234"),
        (1_000_000_00, "INR", "1000000.00"),
        (MAX_MINOR, "INR", "92233720368547758.07"),
        (MAX_MINOR, "JPY", "9223372036854775807"),
        (MAX_MINOR, "KWD", "9223372036854775.807"),
        (-MAX_MINOR, "INR", "-92233720368547758.07"),
        (-MAX_MINOR, "BHD", "-9223372036854775.807"),
    ],
)
def test_to_major_has_exactly_the_currency_decimals(minor: int, currency: str, text: str) -> None:
    assert format(to_major(minor, currency), "f") == text


# The definition `to_major` must match digit for digit (coefficient, exponent and sign): the
# exact scaling of the integer by the currency's exponent, never rounded.
_REFERENCE = decimal.Context(prec=80, traps=[decimal.Inexact, decimal.InvalidOperation])


def _reference_major(minor: int | Decimal, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-exponent(currency), context=_REFERENCE)


@given(minor=minor_amounts, currency=currencies)
def test_to_major_is_the_exact_scaling_digit_for_digit(minor: int, currency: str) -> None:
    major = to_major(minor, currency)
    expected = _reference_major(minor, currency)
    assert type(major) is Decimal
    assert major.as_tuple() == expected.as_tuple()
    assert str(major) == str(expected)
    assert format(major, "f") == format(expected, "f")


@pytest.mark.parametrize("currency", sorted(CURRENCY_EXPONENTS))
@pytest.mark.parametrize("minor", [0, 1, -1, 10, 99, 100, 101, 12345, MAX_MINOR, -MAX_MINOR])
def test_to_major_edges_in_every_currency(minor: int, currency: str) -> None:
    major = to_major(minor, currency)
    assert major.as_tuple() == _reference_major(minor, currency).as_tuple()
    assert -major.as_tuple().exponent == exponent(currency)  # type: ignore[operator]
    assert to_minor(major, currency) == minor


def test_to_major_takes_a_sum_read_as_a_decimal() -> None:
    # SQL `sum()` of a BIGINT arrives as a `Decimal` (numeric): same digits as the int's.
    for total in (Decimal(0), Decimal(12345), Decimal(-7), Decimal(MAX_MINOR) * 3):
        for currency in ("INR", "JPY", "KWD"):
            major = to_major(total, currency)  # type: ignore[arg-type]
            assert major.as_tuple() == _reference_major(total, currency).as_tuple()
    assert format(to_major(Decimal(12345), "INR"), "f") == "123.45"  # type: ignore[arg-type]


def test_to_major_does_not_depend_on_the_thread_context() -> None:
    with decimal.localcontext() as context:
        context.prec = 3
        context.rounding = decimal.ROUND_DOWN
        assert format(to_major(MAX_MINOR, "INR"), "f") == "92233720368547758.07"
        assert format(to_major(123456, "KWD"), "f") == "123.456"
    with pytest.raises(BadUserInput):
        to_major(1, "XYZ")


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
