"""`shared.schema.SubgraphOperation`: one extension per request for the guard, the parse and
validation caches and the access log's operation name; the answers are those of the separate
extensions it replaced (Strawberry's ParserCache and ValidationCache, the request guard,
OperationName)."""

from __future__ import annotations

from typing import Any

from shared import router_signature, telemetry
from shared.schema import SubgraphOperation
from shared.scopes import Role
from tests.shared.test_authz import SCHEMA, SECRET, context, make_schema, principal, run


def operation_extension(schema: Any = SCHEMA) -> type[SubgraphOperation]:
    [extension] = [e for e in schema.extensions if isinstance(e, type)]
    assert issubclass(extension, SubgraphOperation)
    return extension


async def messages(query: str, schema: Any = SCHEMA) -> list[tuple[str, Any]]:
    result = await schema.execute(query, context_value=context(principal(Role.ADMIN)))
    return [(e.message, (e.extensions or {}).get("code")) for e in result.errors or []]


def test_the_schema_has_one_extension_of_its_own() -> None:
    assert [getattr(e, "__name__", "") for e in SCHEMA.extensions] == ["SubgraphOperation"]


async def test_a_query_text_is_parsed_and_validated_once() -> None:
    prepare = operation_extension().prepare
    query = "{ public vendorOrAdmin }"
    before = prepare.cache_info()  # type: ignore[attr-defined]
    for _ in range(3):
        assert await run(query, principal(Role.ADMIN)) == (
            {"public": "hello", "vendorOrAdmin": "ok"},
            [],
        )
    after = prepare.cache_info()  # type: ignore[attr-defined]
    assert after.misses - before.misses <= 1
    assert after.hits - before.hits >= 2


async def test_validation_errors_are_the_same_every_time() -> None:
    # The cached errors are copied per request: the error mapping rewrites its list in place.
    first = await messages("{ nope }")
    assert first == [("Cannot query field 'nope' on type 'Query'.", "BAD_USER_INPUT")]
    assert await messages("{ nope }") == first
    assert await messages("{ nope }") == first


async def test_syntax_errors_are_reported_as_before() -> None:
    first = await messages("{ public ")
    assert len(first) == 1
    assert first[0][1] == "BAD_USER_INPUT"
    assert "Syntax Error" in first[0][0]
    assert await messages("{ public ") == first


async def test_the_guard_runs_before_parsing() -> None:
    signed = make_schema(SECRET)
    # Unsigned: refused before the (broken) document is even read.
    _, codes = await run("{ public ", None, signed)
    assert codes == ["FORBIDDEN"]
    query = "{ public }"
    good = {router_signature.SIGNATURE_EXTENSION: router_signature.sign(SECRET, query, None)}
    assert await run(query, None, signed, extensions=good) == ({"public": "hello"}, [])


async def test_the_operation_name_reaches_the_access_log() -> None:
    record = telemetry.AccessRecord()
    token = telemetry.access_record.set(record)
    try:
        assert await run("query Greeting { public }", None) == ({"public": "hello"}, [])
    finally:
        telemetry.access_record.reset(token)
    assert record.operation_name == "Greeting"
