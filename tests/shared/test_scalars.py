"""The contract's scalars: exact Decimal strings, DateTime with offset, JSON passthrough."""

from __future__ import annotations

import decimal
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import strawberry

from shared.errors import BadUserInput
from shared.scalars import (
    JSON,
    SCALAR_OVERRIDES,
    parse_datetime,
    parse_decimal,
    serialize_datetime,
    serialize_decimal,
)
from shared.schema import build_schema


@pytest.mark.parametrize("text", ["0", "99.99", "-1.5", "007.10", "1" * 30 + "." + "9" * 30])
def test_decimal_strings_parse_exactly(text: str) -> None:
    assert parse_decimal(text) == decimal.Decimal(text)


@pytest.mark.parametrize(
    "value",
    [
        1.5,
        12,
        True,
        None,
        "NaN",
        "nan",
        "Infinity",
        "-Infinity",
        "1e5",
        "1E-2",
        " 1",
        "1 ",
        "+1",
        "1.",
        ".5",
        "1,5",
        "0x10",
        "",
        "1" * 31,
        "١٢",
    ],
)
def test_decimal_junk_is_bad_user_input(value: Any) -> None:
    with pytest.raises(BadUserInput):
        parse_decimal(value)


def test_decimal_serializes_without_exponent_and_refuses_floats() -> None:
    assert serialize_decimal(decimal.Decimal("1E+2")) == "100"
    assert serialize_decimal(decimal.Decimal("0.10")) == "0.10"
    assert serialize_decimal(7) == "7"
    for bad in (1.5, True, "1", decimal.Decimal("NaN"), decimal.Decimal("Infinity")):
        with pytest.raises(TypeError):
            serialize_decimal(bad)


@pytest.mark.parametrize(
    "text",
    [
        "0",
        "-0",
        "-0.00",
        "0.10",
        "1E+2",
        "1E-7",
        "-123456789012345678901234567890.123456789",
        "99.99",
    ],
)
def test_decimal_output_is_the_general_formatting(text: str) -> None:
    # The common case (a finite Decimal) is answered first; the answer is the general path's.
    value = decimal.Decimal(text)
    assert serialize_decimal(value) == format(decimal.Decimal(value), "f")


def test_datetime_output_is_iso_8601_with_offset() -> None:
    moment = datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)
    assert serialize_datetime(moment) == "2024-05-01T10:00:00.123456+00:00"
    ist = timezone(timedelta(hours=5, minutes=30))
    assert serialize_datetime(datetime(2024, 5, 1, 15, 30, tzinfo=ist)).endswith("+05:30")
    with pytest.raises(TypeError, match="naive"):
        serialize_datetime(datetime(2024, 5, 1))
    with pytest.raises(TypeError):
        serialize_datetime("2024-05-01")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T10:00:00Z", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01T10:00:00z", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01T15:30:00+05:30", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01T10:00+00:00", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01T10:00:00.5Z", datetime(2024, 5, 1, 10, 0, 0, 500000, tzinfo=UTC)),
    ],
)
def test_datetime_input_needs_an_offset_and_becomes_utc(text: str, expected: datetime) -> None:
    parsed = parse_datetime(text)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "value", ["2024-05-01T10:00:00", "2024-05-01", "2024-13-01T10:00:00Z", "yesterday", 1714557600]
)
def test_datetime_without_instant_is_bad_user_input(value: Any) -> None:
    with pytest.raises(BadUserInput):
        parse_datetime(value)


@strawberry.type
class Query:
    @strawberry.field
    def echo(self, amount: decimal.Decimal, at: datetime, data: JSON) -> str:
        return f"{amount}|{at.isoformat()}|{data}"

    @strawberry.field
    def now(self) -> datetime:
        return datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


class Ctx:
    auth_error = None
    router_verified = True


async def test_scalars_in_a_schema() -> None:
    schema = build_schema(query=Query, router_secret=None, scalar_overrides=SCALAR_OVERRIDES)
    sdl = schema.as_str()
    assert "scalar Decimal" in sdl
    assert "scalar DateTime" in sdl
    assert "scalar JSON" in sdl
    query = (
        "query($a: Decimal!, $t: DateTime!, $d: JSON!) { echo(amount: $a, at: $t, data: $d) now }"
    )
    ok = await schema.execute(
        query,
        variable_values={"a": "10.50", "t": "2024-01-01T05:30:00+05:30", "d": {"x": [1]}},
        context_value=Ctx(),
    )
    assert ok.errors is None
    assert ok.data == {
        "echo": "10.50|2024-01-01T00:00:00+00:00|{'x': [1]}",
        "now": "2024-01-02T03:04:05+00:00",
    }
    for variables in (
        {"a": 10.5, "t": "2024-01-01T00:00:00Z", "d": 1},
        {"a": "1e3", "t": "2024-01-01T00:00:00Z", "d": 1},
        {"a": "1", "t": "2024-01-01T00:00:00", "d": 1},
    ):
        result = await schema.execute(query, variable_values=variables, context_value=Ctx())
        assert result.errors
        assert [e.extensions["code"] for e in result.errors] == ["BAD_USER_INPUT"]  # type: ignore[index]
    literal = await schema.execute(
        '{ echo(amount: 1.5, at: "2024-01-01T00:00:00Z", data: 1) }', context_value=Ctx()
    )
    assert literal.errors
    assert literal.errors[0].extensions["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    "text",
    [
        "9999-12-31T00:00:00-14:00",  # after year 9999 in UTC: used to raise OverflowError
        "0001-01-01T00:00:00+14:00",  # before year 1 in UTC
        "9999-12-31T12:00:00Z",  # within a day of the end
        "0001-01-01T00:00:00Z",
    ],
)
def test_date_times_out_of_range_are_bad_user_input(text: str) -> None:
    with pytest.raises(BadUserInput, match="out of range"):
        parse_datetime(text)


def test_the_accepted_range_ends_a_day_inside_pythons() -> None:
    assert parse_datetime("0001-01-02T00:00:00Z") == datetime(1, 1, 2, tzinfo=UTC)
    assert parse_datetime("9999-12-30T00:00:00+00:00") == datetime(9999, 12, 30, tzinfo=UTC)
