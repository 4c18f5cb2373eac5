"""`shared.input_guard`: what no field accepts, found without recursion and named by field."""

from __future__ import annotations

import json
from typing import Any

import pytest
from graphql import parse

from shared.errors import BadUserInput
from shared.input_guard import MAX_DEPTH, check_literals, check_variables, decode_json


def nested(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for i in range(depth):
        value = {"k": value} if i % 2 else [value]
    return value


def refusal(variables: dict[str, Any]) -> BadUserInput:
    with pytest.raises(BadUserInput) as caught:
        check_variables(variables)
    return caught.value


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"input": {"name": "a\x00"}}, "name"),
        ({"search": "\x1f"}, "search"),
        ({"input": {"items": [{"note": "ok"}, {"note": "\x85"}]}}, "items.1.note"),
        ({"value": {"n": 2**63}}, "n"),
        ({"value": {"n": -(2**63) - 1}}, "n"),
        ({"value": float("nan")}, "value"),
        ({"value": float("inf")}, "value"),
        ({"value": nested(MAX_DEPTH + 1)}, "value"),
    ],
)
def test_variables_refused_with_their_field(variables: dict[str, Any], field: str) -> None:
    assert refusal(variables).extensions["field"] == field


def test_acceptable_variables_pass() -> None:
    check_variables(
        {
            "text": "tab\tnew line\ncarriage\r unicode ü 😀",
            "limits": [2**63 - 1, -(2**63), 1.5, True, None],
            "value": nested(MAX_DEPTH),
            "file": object(),  # an upload put in place by the multipart parser
        }
    )
    check_variables(None)


def test_a_very_deep_value_is_refused_without_recursion() -> None:
    assert refusal({"value": nested(100_000)}).extensions["field"] == "value"


def test_literals_are_checked_with_their_field() -> None:
    query = 'mutation { register(input: {name: "x\\u0000", email: "a@b.c"}) { id } }'
    with pytest.raises(BadUserInput) as caught:
        check_literals(parse(query), query)
    assert caught.value.extensions["field"] == "name"
    with pytest.raises(BadUserInput):  # the cached verdict refuses again
        check_literals(parse(query), query)
    big = "mutation { set(value: {n: 99999999999999999999}) }"
    with pytest.raises(BadUserInput, match="64 bits"):
        check_literals(parse(big), None)
    deep = "query { f(a: " + "[" * 40 + "]" * 40 + ") }"
    with pytest.raises(BadUserInput, match="nested"):
        check_literals(parse(deep), deep)
    fine = 'query { f(a: "tab\\t", b: [1, 2], c: {d: 1.5}) }'
    check_literals(parse(fine), fine)
    check_literals(None, None)


def test_bodies_deeper_than_pythons_recursion_limit_are_still_decoded() -> None:
    body = "[" * 1000 + "]" * 1000
    with pytest.raises(RecursionError):
        json.loads(body)
    assert isinstance(decode_json(body), list)
    with pytest.raises(json.JSONDecodeError):  # past orjson's own limit: HTTP 400
        decode_json("[" * 5000 + "]" * 5000)
    assert decode_json('{"n": 123456789012345678901234567890}') == {
        "n": 123456789012345678901234567890
    }
