"""`direct_input` builds an input type with the same values as Strawberry's own conversion."""

# No `from __future__ import annotations`: the resolver's annotation names a local class.
import enum
from datetime import datetime

import pytest
import strawberry

from shared.scalars import SCALAR_OVERRIDES
from shared.schema import direct_input


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.input
class Inner:
    name: str


def make_input() -> type:
    @strawberry.input
    class Filter:
        colours: list[Colour] | None = None
        maybe_colours: list[Colour | None] | None = None
        text: str | None = None
        count: int = 3
        when: datetime | None = None
        inner: Inner | None = None
        inners: list[Inner] | None = None

    return Filter


def schema_for(filter_type: type) -> strawberry.Schema:
    @strawberry.type
    class Query:
        @strawberry.field
        def echo(self, filter: filter_type | None = None) -> str:  # type: ignore[valid-type]
            return repr(filter)

    return strawberry.Schema(query=Query, scalar_overrides=SCALAR_OVERRIDES)


QUERY = """query($f: Filter) { echo(filter: $f) }"""

VALUES = [
    None,
    {},
    {"colours": ["RED", "BLUE"], "text": "x", "count": 5},
    {"maybeColours": ["RED", None], "when": "2024-05-01T10:00:00+05:30"},
    {"inner": {"name": "a"}, "inners": [{"name": "b"}, {"name": "c"}]},
    {"colours": None, "inner": None, "when": None},
]


@pytest.mark.parametrize("value", VALUES)
def test_same_values_as_strawberry(value: object) -> None:
    plain = schema_for(make_input()).execute_sync(QUERY, variable_values={"f": value})
    direct = schema_for(direct_input(make_input())).execute_sync(
        QUERY, variable_values={"f": value}
    )
    assert plain.errors is None
    assert direct.errors is None
    assert direct.data == plain.data


def test_maybe_fields_are_refused() -> None:
    @strawberry.input
    class WithMaybe:
        value: strawberry.Maybe[str]

    with pytest.raises(TypeError, match="Maybe"):
        direct_input(WithMaybe)
