"""`described_enum`: a GraphQL enum whose every value carries a description, StrEnums included."""

from __future__ import annotations

from enum import StrEnum

import pytest
import strawberry

from shared.enum_docs import described_enum


@described_enum(name="Colour", description="A colour.", values={"RED": "Warm.", "BLUE": "Cold."})
class Colour(StrEnum):
    RED = "RED"
    BLUE = "BLUE"


@strawberry.type
class Query:
    colour: Colour = Colour.RED


def test_each_value_gets_its_description_and_the_enum_stays_a_str_enum() -> None:
    sdl = strawberry.Schema(Query).as_str()
    assert '"""A colour."""\nenum Colour {\n  """Warm."""\n  RED\n\n  """Cold."""\n  BLUE\n}' in sdl
    assert Colour("BLUE") is Colour.BLUE
    assert Colour.RED == "RED"


@pytest.mark.parametrize(
    "values", [{"RED": "Warm."}, {"RED": "Warm.", "BLUE": "Cold.", "GREEN": "Stale entry."}]
)
def test_a_missing_or_unknown_value_is_refused_at_import(values: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="describe exactly its members"):

        @described_enum(description="A colour.", values=values)
        class Other(StrEnum):
            RED = "RED"
            BLUE = "BLUE"
