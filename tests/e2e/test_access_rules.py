"""The router's access rules (`useAccessRules`, router/src/plugins.ts) are computed once per
document and evaluated per request: the same document text gives each caller its own answer,
nested and conditional fields are checked as before (generic-auth's protect-granular walk), and a
number literal the router could not carry exactly is refused before any subgraph sees it."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Client

A = "UNAUTHENTICATED"
F = "FORBIDDEN"


def codes(result: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in result.get("errors") or []]


async def test_one_document_answers_each_caller_by_its_own_token(client: Client) -> None:
    # The same text (one parsed document, one cached rule list) for four callers, interleaved.
    query = '{ users(filter: {search: "customer@"}) { edges { node { email lastLoginAt } } } }'
    admin = await client.login("admin@example.com")
    customer = await client.login("customer@example.com")
    for _ in range(2):
        anonymous = await client.gql(query)
        assert codes(anonymous) == [A], anonymous
        assert anonymous["data"] is None
        forbidden = await client.gql(query, token=customer)
        assert codes(forbidden) == [F], forbidden
        assert forbidden["data"] is None
        allowed = await client.gql(query, token=admin)
        assert "errors" not in allowed, allowed
        assert allowed["data"]["users"]["edges"][0]["node"]["email"] == "customer@example.com"


async def test_one_error_per_refused_field_in_document_order(client: Client) -> None:
    # users (admin) is refused, so its admin-only field inside is not reported again; me and
    # lastLoginAt (admin) under it, and systemConfig, are.
    query = "{ users { edges { node { lastLoginAt } } } me { lastLoginAt } systemConfig { key } }"
    customer = await client.login("customer@example.com")
    result = await client.gql(query, token=customer)
    assert result["data"] is None
    assert [(e["extensions"]["code"], e["message"]) for e in result["errors"]] == [
        (F, "Not allowed to access Query.users"),
        (F, "Not allowed to access User.lastLoginAt"),
        (F, "Not allowed to access Query.systemConfig"),
    ], result
    anonymous = await client.gql(query)
    assert [e["message"] for e in anonymous["errors"]] == [
        "Authentication required to access Query.users",
        "Authentication required to access Query.me",
        "Authentication required to access Query.systemConfig",
    ], anonymous


async def test_fields_left_out_by_include_or_skip_are_not_checked(client: Client) -> None:
    query = "query($x: Boolean!) { me @include(if: $x) { id } __typename }"
    left_out = await client.gql(query, {"x": False})
    assert "errors" not in left_out, left_out
    assert left_out["data"] == {"__typename": "Query"}
    included = await client.gql(query, {"x": True})
    assert codes(included) == [A], included
    skipped = await client.gql(
        "query($x: Boolean!) { me @skip(if: $x) { id } __typename }", {"x": True}
    )
    assert "errors" not in skipped, skipped


async def test_a_condition_that_cannot_be_read_checks_the_field(client: Client) -> None:
    """`@skip(if: $h)` with an explicit null for a nullable variable, or a conditional field of
    another operation of the document than the one run: the condition cannot be evaluated, so the
    field is checked as if included (fail closed), never an INTERNAL_SERVER_ERROR."""
    token = await client.login("customer@example.com")
    query = "query($h: Boolean = false) { users @skip(if: $h) { totalCount } }"
    result = await client.gql(query, {"h": None}, token=token)
    assert codes(result) == [F], result
    document = "query A { __typename } query B($x: Boolean!) { users @include(if: $x) { id } }"
    response = await client.http.post(
        client.stack.url("router"),
        json={"query": document, "operationName": "A", "variables": {}},
        headers={"authorization": f"Bearer {token}"},
    )
    answer = response.json()
    assert "INTERNAL_SERVER_ERROR" not in codes(answer), answer


async def test_number_literals_beyond_2_53_are_refused_by_the_router(client: Client) -> None:
    admin = await client.login("admin@example.com")
    for literal in ("9007199254740993", "-123456789012345678901234567890", "1e400"):
        mutation = f'mutation {{ setSystemConfig(key: "no.such.key", value: {{n: {literal}}}) '
        result = await client.gql(mutation + "{ key } }", token=admin)
        assert codes(result) == ["BAD_USER_INPUT"], (literal, result)
        assert "supported range" in result["errors"][0]["message"], result
    # Int arguments keep graphql-js's own refusal (one error, its message).
    result = await client.gql("{ payments(first: 99999999999) { totalCount } }", token=admin)
    assert codes(result) == ["BAD_USER_INPUT"], result
    assert "Int cannot represent" in result["errors"][0]["message"], result
    # Within the range the literal reaches the admin subgraph, which refuses the unknown key.
    passed = await client.gql(
        'mutation { setSystemConfig(key: "no.such.key", value: {n: 9007199254740991}) { key } }',
        token=admin,
    )
    assert codes(passed) == ["BAD_USER_INPUT"], passed
    assert passed["errors"][0]["extensions"].get("field") == "key", passed
