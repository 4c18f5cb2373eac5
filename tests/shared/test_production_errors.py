"""Subgraph side of issue 8 finding 7: in production no "Did you mean ...?" suggestions (they
reveal the schema); elsewhere they stay (developers want them)."""

from __future__ import annotations

from enum import Enum
from types import SimpleNamespace

import pytest
import strawberry

from shared.schema import build_schema


@strawberry.enum
class Colour(Enum):
    RED = "RED"
    GREEN = "GREEN"


@strawberry.type
class Query:
    @strawberry.field
    def paint(self, colour: Colour) -> str:
        return str(colour)


SCHEMA = build_schema(query=Query, router_secret=None)
CONTEXT = SimpleNamespace(auth_error=None, router_verified=False)  # what the guard reads


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ paints(colour: RED) }", None),
        ("query($c: Colour!) { paint(colour: $c) }", {"c": "REDD"}),
    ],
)
async def test_production_hides_suggestions(
    monkeypatch: pytest.MonkeyPatch, query: str, variables: dict[str, str] | None
) -> None:
    monkeypatch.setenv("APP_ENV", "development")
    shown = await SCHEMA.execute(query, variable_values=variables, context_value=CONTEXT)
    assert shown.errors
    assert "Did you mean" in shown.errors[0].message
    monkeypatch.setenv("APP_ENV", "production")
    hidden = await SCHEMA.execute(query, variable_values=variables, context_value=CONTEXT)
    assert hidden.errors
    assert "Did you mean" not in hidden.errors[0].message
    assert hidden.errors[0].extensions == {"code": "BAD_USER_INPUT"}
