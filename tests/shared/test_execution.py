"""`shared.execution`: attribute-read leaf fields served in one step, with the same answers as
graphql-core's general path, and never a field with an access rule."""

from __future__ import annotations

import asyncio
import decimal
import enum
import inspect
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast

import graphql
import pytest
import strawberry
from graphql import GraphQLEnumType, GraphQLError, GraphQLObjectType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from shared.execution import SubgraphExecutor, enum_output, is_awaitable, plain_fields
from shared.scalars import SCALAR_OVERRIDES
from shared.schema import SubgraphSchema, build_schema
from shared.scopes import Role
from tests.shared.test_authz import context, principal


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"
    ALSO_RED = "red"  # an alias: Strawberry names the first match (RED)


@strawberry.type
class Child:
    name: str
    colour: Colour | None


@strawberry.type
class Row:
    id: strawberry.ID
    amount: decimal.Decimal
    at: datetime
    colour: Colour
    count: int
    ratio: float
    flag: bool
    note: str | None
    maybe_colour: Colour | None
    children: list[Child]
    first_child: Child | None
    tags: list[str | None]
    secret: str = strawberry.federation.field(requires_scopes=[["admin"]])
    owner_note: str = strawberry.federation.field(authenticated=True)

    @strawberry.field
    def computed(self) -> str:
        return f"computed {self.id}"


def row(i: int, **overrides: Any) -> Row:
    values: dict[str, Any] = {
        "id": strawberry.ID(str(uuid.UUID(int=i))),
        "amount": decimal.Decimal(i) / 100,
        "at": datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=i),
        "colour": Colour.GREEN if i % 2 else Colour.RED,
        "count": i,
        "ratio": i / 3,
        "flag": bool(i % 2),
        "note": None if i % 3 else f"note {i}",
        "maybe_colour": None if i % 2 else Colour.GREEN,
        "children": [Child(name=f"child {i}.{j}", colour=Colour.RED) for j in range(2)],
        "first_child": Child(name=f"first {i}", colour=None) if i % 2 else None,
        "tags": ["a", None, str(i)],
        "secret": f"secret {i}",
        "owner_note": f"owner {i}",
    }
    values.update(overrides)
    return Row(**values)


ROWS: dict[str, list[Row]] = {
    "plain": [row(i) for i in range(25)],
    "offsets": [
        row(1, at=datetime(2026, 5, 1, 10, 0, tzinfo=timezone(timedelta(hours=5, minutes=30)))),
        row(2, amount=decimal.Decimal("1E+2")),
        row(3, amount=decimal.Decimal("-0.000001")),
        row(4, amount=7),
    ],
    "naive": [row(1, at=datetime(2026, 1, 1))],  # refused by the scalar
    "nan": [row(1, amount=decimal.Decimal("NaN"))],
    "float": [row(1, amount=1.5)],
    "null": [row(1, note=None), row(2, id=None)],
    "error": [row(1, note=ValueError("an exception as the value"))],
    "bad_enum": [row(1, colour="green")],  # a plain string, not the enum
    "null_list": [row(1, children=None)],
    "null_child": [row(1, children=[Child(name="x", colour=None), None])],
    "bad_child": [row(1, first_child=Child(name=None, colour=None))],  # type: ignore[arg-type]
}


def _awaitable_note() -> Any:
    async def later() -> str:
        await asyncio.sleep(0)
        return "awaited"

    return later()


@strawberry.type
class Query:
    @strawberry.field
    def rows(self, kind: str) -> list[Row]:
        if kind == "awaitable":
            return [row(1, note=_awaitable_note())]
        return ROWS[kind]


SCHEMA = build_schema(query=Query, router_secret=None, scalar_overrides=SCALAR_OVERRIDES)

LEAVES = (
    "id amount at colour count ratio flag note maybeColour computed tags"
    " children { name colour } firstChild { name c: colour }"
)
QUERY = "query($kind: String!) { rows(kind: $kind) { %s } }"


async def execute(
    schema: SubgraphSchema, query: str, kind: str, role: Role | None = Role.CUSTOMER
) -> str:
    """The response as the subgraph would send it (data and errors), as text."""
    who = principal(role) if role is not None else None
    result = await schema.execute(query, variable_values={"kind": kind}, context_value=context(who))
    errors = [
        {"message": e.message, "path": e.path, "code": (e.extensions or {}).get("code")}
        for e in result.errors or []
    ]
    return json.dumps({"data": result.data, "errors": errors}, sort_keys=True)


async def both(query: str, kind: str, role: Role | None = Role.CUSTOMER) -> tuple[str, str]:
    general = SCHEMA.execution_context_class
    SCHEMA.execution_context_class = StrawberryGraphQLCoreExecutionContext
    try:
        before = await execute(SCHEMA, query, kind, role)
    finally:
        SCHEMA.execution_context_class = general
    return before, await execute(SCHEMA, query, kind, role)


async def raw(query: str, kind: str, executor: type[Any]) -> str:
    """graphql-core's own result (errors with their original messages, nothing masked)."""
    result = graphql.execute(
        SCHEMA._schema,
        graphql.parse(query),
        variable_values={"kind": kind},
        context_value=context(principal(Role.CUSTOMER)),
        executor_class=executor,
    )
    if inspect.isawaitable(result):
        result = await result
    assert isinstance(result, graphql.ExecutionResult)
    return json.dumps(result.formatted, sort_keys=True)


def served_plainly(type_name: str, field_name: str, schema: SubgraphSchema = SCHEMA) -> bool:
    assert issubclass(schema.execution_context_class, SubgraphExecutor)
    executor = cast("type[SubgraphExecutor]", schema.execution_context_class)
    gql_type = schema._schema.type_map[type_name]
    assert isinstance(gql_type, GraphQLObjectType)
    field = gql_type.fields[field_name]
    entry = executor.plain.get(id(field))
    return entry is not None and entry[0] is field and entry[1].resolve is field.resolve


def test_the_schema_executes_with_the_subgraph_executor() -> None:
    assert issubclass(SCHEMA.execution_context_class, SubgraphExecutor)


def test_rule_less_attribute_fields_take_the_fast_path_and_ruled_ones_do_not() -> None:
    for name in ("id", "amount", "at", "colour", "count", "ratio", "flag", "note", "maybeColour"):
        assert served_plainly("Row", name), name
    # Attribute fields with an access rule keep the rule's wrapper: never served plainly.
    assert not served_plainly("Row", "secret")
    assert not served_plainly("Row", "ownerNote")
    assert ("Row", "secret") in SCHEMA.access_rules.rules
    # Object and list attributes: read directly, completed by graphql-core.
    for name in ("children", "firstChild", "tags"):
        assert served_plainly("Row", name), name
    # A resolver of its own: the general path.
    assert not served_plainly("Row", "computed")
    assert not served_plainly("Query", "rows")


async def test_ruled_attribute_fields_stay_guarded() -> None:
    query = QUERY % "id secret"
    customer = json.loads(await execute(SCHEMA, query, "plain", Role.CUSTOMER))
    assert {e["code"] for e in customer["errors"]} == {"FORBIDDEN"}
    admin = json.loads(await execute(SCHEMA, query, "plain", Role.ADMIN))
    assert admin["errors"] == []
    assert admin["data"]["rows"][0]["secret"] == "secret 0"
    anonymous = json.loads(await execute(SCHEMA, QUERY % "id ownerNote", "plain", None))
    assert {e["code"] for e in anonymous["errors"]} == {"UNAUTHENTICATED"}


@pytest.mark.parametrize("kind", [*sorted(ROWS), "awaitable"])
async def test_answers_are_identical_to_the_general_path(kind: str) -> None:
    before, after = await both(QUERY % LEAVES, kind)
    assert after == before
    general = await raw(QUERY % LEAVES, kind, StrawberryGraphQLCoreExecutionContext)
    assert await raw(QUERY % LEAVES, kind, SCHEMA.execution_context_class) == general
    if kind == "plain":
        data = json.loads(after)["data"]["rows"]
        assert data[1] == {
            "id": "00000000-0000-0000-0000-000000000001",
            "amount": "0.01",
            "at": "2026-01-01T00:01:00+00:00",
            "colour": "GREEN",
            "count": 1,
            "ratio": 1 / 3,
            "flag": True,
            "note": None,
            "maybeColour": None,
            "computed": "computed 00000000-0000-0000-0000-000000000001",
            "tags": ["a", None, "1"],
            "children": [
                {"name": "child 1.0", "colour": "RED"},
                {"name": "child 1.1", "colour": "RED"},
            ],
            "firstChild": {"name": "first 1", "c": None},
        }


async def test_aliases_and_repeated_fields_answer_identically() -> None:
    query = QUERY % "a: amount b: amount amount colour c: colour __typename"
    before, after = await both(query, "plain")
    assert after == before


async def test_errors_are_located_like_the_general_path() -> None:
    _, naive = await both(QUERY % "id at", "naive")
    assert json.loads(naive)["errors"][0]["path"] == ["rows", 0, "at"]
    _, null = await both(QUERY % "id note", "null")
    # `id` is non-null: the row becomes null (the list's items are non-null: the list too).
    assert json.loads(null)["data"] is None
    assert json.loads(null)["errors"][0]["path"] == ["rows", 1, "id"]
    _, error = await both(QUERY % "note", "error")
    assert json.loads(error)["errors"][0]["path"] == ["rows", 0, "note"]


def test_enum_output_names_like_strawberry() -> None:
    enum_type = SCHEMA._schema.type_map["Colour"]
    assert isinstance(enum_type, GraphQLEnumType)
    fast = enum_output(enum_type)
    for member in Colour:
        assert fast(member) == enum_type.coerce_output_value(member)
    assert fast(Colour.ALSO_RED) == "RED"
    with pytest.raises(GraphQLError, match="cannot represent value: 'nonsense'"):
        enum_type.coerce_output_value("nonsense")
    with pytest.raises(GraphQLError, match="cannot represent value: 'nonsense'"):
        fast("nonsense")


def test_is_awaitable_agrees_with_graphql_core() -> None:
    async def coroutine() -> None:
        return None

    class Awaitable:
        def __await__(self) -> Any:
            yield

    def generator() -> Any:
        yield

    pending = coroutine()
    try:
        for value in (1, "x", None, decimal.Decimal(1), Colour.RED, row(1), datetime.now(UTC)):
            assert not is_awaitable(value)
            assert not is_awaitable(value)  # answered from the type the second time
        assert is_awaitable(pending)
        assert is_awaitable(Awaitable())
        assert not is_awaitable(generator())
    finally:
        pending.close()


def test_every_subgraph_field_with_a_rule_keeps_its_guard() -> None:
    from subgraphs.admin.schema import create_schema as admin_schema
    from subgraphs.auth.schema import create_schema as auth_schema
    from subgraphs.payments.schema import create_schema as payments_schema
    from subgraphs.profile.schema import create_schema as profile_schema

    for create in (admin_schema, auth_schema, payments_schema, profile_schema):
        schema = create(None)
        assert schema.access_rules.rules
        for type_name, field_name in schema.access_rules.rules:
            assert not served_plainly(type_name, field_name, schema), (type_name, field_name)
        # The payments list's leaves are served plainly.
        if create is payments_schema:
            for name in ("id", "amount", "currency", "status", "createdAt"):
                assert served_plainly("Payment", name, schema), name


def test_plain_fields_cover_only_strawberry_attribute_reads() -> None:
    table = plain_fields(SCHEMA)
    names = {
        (type_name, field_name)
        for type_name, gql_type in SCHEMA._schema.type_map.items()
        if isinstance(gql_type, GraphQLObjectType)
        for field_name, field in gql_type.fields.items()
        if id(field) in table
    }
    assert ("Row", "amount") in names
    assert ("Row", "computed") not in names
    assert not any(type_name.startswith("_") for type_name, _ in names)
