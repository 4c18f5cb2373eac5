"""The contract's custom scalars, defined once for every subgraph.

- `Decimal`: exact money. On the wire a string in major units (`"99.99"`); in Python a
  `decimal.Decimal`. Input must be a GraphQL String of plain digits with an optional sign and
  fraction: floats, ints, `NaN`, `Infinity`, exponents (`1e5`), spaces and signs like `+1` are
  BAD_USER_INPUT. Output never uses exponent notation.
- `DateTime`: ISO-8601 with an offset, both ways. Output refuses naive datetimes (a bug, not a
  value); input without an offset is BAD_USER_INPUT (it names no instant); input is returned in UTC.
  Input must lie between `DATETIME_MIN` and `DATETIME_MAX` (a day inside Python's range, so a
  service adding a day never overflows); outside it is BAD_USER_INPUT, never an OverflowError.
- `JSON`: Strawberry's `JSON` scalar (any JSON value, passed through), re-exported so every
  subgraph declares the same scalar.

Pass `SCALAR_OVERRIDES` to `shared.schema.build_schema(scalar_overrides=...)` so annotations stay
plain `decimal.Decimal` / `datetime`.
"""

from __future__ import annotations

import decimal
import re
from datetime import UTC, datetime, timedelta

from strawberry.scalars import JSON
from strawberry.types.scalar import ScalarDefinition

from shared.errors import BadUserInput

__all__ = [
    "DATETIME_MAX",
    "DATETIME_MIN",
    "JSON",
    "SCALAR_OVERRIDES",
    "DateTimeScalar",
    "DecimalScalar",
    "parse_datetime",
    "parse_decimal",
    "serialize_datetime",
    "serialize_decimal",
]

# Up to 30 integer digits and 30 fraction digits: far beyond any amount, small enough to refuse
# pathological input before `decimal` sees it.
_DECIMAL = re.compile(r"-?[0-9]{1,30}(?:\.[0-9]{1,30})?")

# `YYYY-MM-DDTHH:MM[:SS[.ffffff]]` followed by `Z` or `±HH:MM`.
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)

# The instants a client may name: Python's own range less a day at each end.
DATETIME_MIN = datetime.min.replace(tzinfo=UTC) + timedelta(days=1)
DATETIME_MAX = datetime.max.replace(tzinfo=UTC) - timedelta(days=1)


def parse_decimal(value: object) -> decimal.Decimal:
    """A client's Decimal: a string of digits, optional `-` and fraction; anything else refused."""
    if not isinstance(value, str):
        raise BadUserInput('Decimal values are strings in major units, e.g. "99.99"')
    if not _DECIMAL.fullmatch(value):
        raise BadUserInput(f'"{value[:40]}" is not a decimal number like "99.99"')
    return decimal.Decimal(value)


def serialize_decimal(value: object) -> str:
    if type(value) is decimal.Decimal and value.is_finite():  # the common case, in one test
        return format(value, "f")
    if isinstance(value, bool) or not isinstance(value, decimal.Decimal | int):
        raise TypeError(f"Decimal cannot represent {type(value).__name__} (floats are refused)")
    number = decimal.Decimal(value)
    if not number.is_finite():
        raise TypeError("Decimal cannot represent NaN or Infinity")
    return format(number, "f")


def parse_datetime(value: object) -> datetime:
    """An ISO-8601 date-time that names an instant (offset required), converted to UTC."""
    if not isinstance(value, str) or not _DATETIME.fullmatch(value):
        raise BadUserInput(
            "DateTime values are ISO-8601 strings with an offset, e.g. 2024-05-01T10:00:00Z"
        )
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z")).astimezone(UTC)
    except ValueError as exc:
        raise BadUserInput(f'"{value}" is not a valid date-time') from exc
    except OverflowError as exc:  # e.g. 9999-12-31T00:00:00-14:00 is after year 9999 in UTC
        raise BadUserInput(f'"{value}" is out of range') from exc
    if not DATETIME_MIN <= parsed <= DATETIME_MAX:
        raise BadUserInput(f'"{value}" is out of range')
    return parsed


def serialize_datetime(value: object) -> str:
    if type(value) is datetime and value.utcoffset() is not None:  # the common case
        return value.isoformat()
    if not isinstance(value, datetime):
        raise TypeError(f"DateTime cannot represent {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise TypeError("DateTime refuses a naive datetime (no offset)")
    return value.isoformat()


DecimalScalar = ScalarDefinition(
    name="Decimal",
    description='Exact decimal number as a string in major units, e.g. "99.99".',
    specified_by_url=None,
    serialize=serialize_decimal,
    parse_value=parse_decimal,
    parse_literal=None,
    origin=decimal.Decimal,
)

DateTimeScalar = ScalarDefinition(
    name="DateTime",
    description="Date and time, ISO-8601 with offset, e.g. 2024-05-01T10:00:00+00:00.",
    specified_by_url=None,
    serialize=serialize_datetime,
    parse_value=parse_datetime,
    parse_literal=None,
    origin=datetime,
)

SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {
    decimal.Decimal: DecimalScalar,
    datetime: DateTimeScalar,
}
