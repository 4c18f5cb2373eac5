"""Input no field accepts (`shared.input_guard`, `shared.scalars`), through a real subgraph: each
used to reach the database or the JSON parser and come back as a masked INTERNAL_SERVER_ERROR."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.scopes import Role
from tests.helpers import Subgraph, error_codes

AUDIT = """query A($filter: AuditLogFilter) { auditLogs(filter: $filter) { totalCount } }"""
ANALYTICS = """query N($from: DateTime!, $to: DateTime!) {
  analytics(from: $from, to: $to) { from } }"""
SET = """mutation S($key: String!, $value: JSON!) { setSystemConfig(key: $key, value: $value) {
  key } }"""


def bad_input(result: dict[str, Any]) -> dict[str, Any]:
    assert error_codes(result) == ["BAD_USER_INPUT"], result
    error: dict[str, Any] = result["errors"][0]
    return error


@pytest.mark.parametrize("text", ["a\x00b", "\x07bell", "esc\x1b[0m", "del\x7f"])
async def test_control_characters_in_a_variable_are_refused_with_the_field(
    admin: Subgraph, text: str
) -> None:
    result = await admin.gql(AUDIT, {"filter": {"action": text}}, as_=admin.caller(Role.ADMIN))
    assert bad_input(result)["extensions"]["field"] == "action"


async def post_raw(admin: Subgraph, body: str) -> dict[str, Any]:
    """A body written by hand (unsigned: it is refused as input before the signature is read)."""
    response = await admin.client.post(
        "/graphql",
        content=body,
        headers={
            "content-type": "application/json",
            "authorization": f"Bearer {admin.caller(Role.ADMIN).token}",
        },
    )
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


async def test_a_lone_surrogate_is_refused(admin: Subgraph) -> None:
    body = '{"query": ' + json.dumps(AUDIT) + ', "variables": {"filter": {"action": "\\ud800"}}}'
    assert bad_input(await post_raw(admin, body))["extensions"]["field"] == "action"


async def test_control_characters_in_a_literal_are_refused_with_the_field(admin: Subgraph) -> None:
    query = 'query { auditLogs(filter: {action: "x\\u0000y"}) { totalCount } }'
    result = await admin.gql(query, as_=admin.caller(Role.ADMIN))
    assert bad_input(result)["extensions"]["field"] == "action"


async def test_tabs_and_newlines_still_pass(admin: Subgraph) -> None:
    data = await admin.ok(AUDIT, {"filter": {"action": "a\tb\nc\r"}}, as_=admin.caller(Role.ADMIN))
    assert data["auditLogs"]["totalCount"] == 0


@pytest.mark.parametrize(
    "instant", ["9999-12-31T00:00:00-14:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59Z"]
)
async def test_date_times_out_of_range_are_bad_user_input(admin: Subgraph, instant: str) -> None:
    variables = {"from": instant, "to": "2024-01-01T00:00:00Z"}
    result = await admin.gql(ANALYTICS, variables, as_=admin.caller(Role.ADMIN))
    bad_input(result)


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"a": value}
    return value


async def test_a_json_variable_nested_1000_levels_is_bad_user_input(admin: Subgraph) -> None:
    # Written by hand: Python's own `json.dumps` cannot serialise this depth either.
    value = '{"a":' * 1000 + '"leaf"' + "}" * 1000
    body = '{"query": ' + json.dumps(SET) + ', "variables": {"key": "k", "value": ' + value + "}}"
    assert bad_input(await post_raw(admin, body))["extensions"]["field"] == "value"


async def test_json_nested_beyond_the_limit_is_refused_and_at_the_limit_reaches_the_service(
    admin: Subgraph,
) -> None:
    root = admin.caller(Role.ADMIN)
    deep = await admin.gql(SET, {"key": "no.such.key", "value": nested(33)}, as_=root)
    error = bad_input(deep)
    assert "nested more than 32" in error["message"]
    assert error["extensions"]["field"] == "value"
    fits = await admin.gql(SET, {"key": "no.such.key", "value": nested(31)}, as_=root)
    assert "nested" not in bad_input(fits)["message"]  # refused by the service for its key


@pytest.mark.parametrize("number", ["123456789012345678901234567890", "-9223372036854775809"])
async def test_integers_beyond_64_bits_are_refused(admin: Subgraph, number: str) -> None:
    query = f'mutation {{ setSystemConfig(key: "no.such.key", value: {{n: {number}}}) {{ key }} }}'
    result = await admin.gql(query, as_=admin.caller(Role.ADMIN))
    assert bad_input(result)["extensions"]["field"] == "n"
    # Unsigned: the signature cannot cover such a number (nor can the router's JSON carry one).
    as_variable = await admin.gql(
        SET, {"key": "k", "value": {"n": int(number)}}, as_=admin.caller(Role.ADMIN), signed=False
    )
    assert bad_input(as_variable)["extensions"]["field"] == "n"


async def test_a_date_time_literal_out_of_range_is_bad_user_input(admin: Subgraph) -> None:
    query = """query { analytics(from: "9999-12-31T00:00:00-14:00",
      to: "2024-01-01T00:00:00Z") { from } }"""
    bad_input(await admin.gql(query, as_=admin.caller(Role.ADMIN)))
