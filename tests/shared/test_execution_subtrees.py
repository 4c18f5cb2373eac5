"""`shared.execution`, pure subtrees: lists and objects whose whole selection is plain leaves,
`__typename` and attribute-read objects/lists are completed in one loop, with the same answers
and errors (messages, paths, null propagation) as Strawberry's stock executor, and a selection
holding a field with a resolver or an access rule never takes that loop."""

from __future__ import annotations

import decimal
import enum
import gc
import json
import uuid
import weakref
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import strawberry
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

import shared.execution
from shared.scalars import SCALAR_OVERRIDES
from shared.schema import build_schema
from shared.scopes import Role
from tests.shared.test_authz import context, principal


@strawberry.enum
class Shade(enum.Enum):
    LIGHT = "light"
    DARK = "dark"


@strawberry.type
class Leaf:
    label: str
    shade: Shade | None
    at: datetime | None


@strawberry.type
class Branch:
    name: str
    leaves: list[Leaf]
    best: Leaf | None
    first: Leaf
    grid: list[list[int | None]] | None


@strawberry.type
class Tree:
    id: strawberry.ID
    amount: decimal.Decimal
    shade: Shade
    note: str | None
    branches: list[Branch]
    trunk: Branch | None
    tags: list[str] | None
    secret: str = strawberry.federation.field(requires_scopes=[["admin"]])

    @strawberry.field
    def computed(self) -> str:
        return f"computed {self.id}"


def leaf(i: int, **overrides: Any) -> Leaf:
    values: dict[str, Any] = {
        "label": f"leaf {i}",
        "shade": Shade.DARK if i % 2 else Shade.LIGHT,
        "at": datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=i) if i % 3 else None,
    }
    values.update(overrides)
    return Leaf(**values)


def branch(i: int, **overrides: Any) -> Branch:
    values: dict[str, Any] = {
        "name": f"branch {i}",
        "leaves": [leaf(i * 10 + j) for j in range(3)],
        "best": leaf(i) if i % 2 else None,
        "first": leaf(i * 10),
        "grid": [[i, None], [i + 1]] if i % 2 else None,
    }
    values.update(overrides)
    return Branch(**values)


def tree(i: int, **overrides: Any) -> Tree:
    values: dict[str, Any] = {
        "id": strawberry.ID(str(uuid.UUID(int=i))),
        "amount": decimal.Decimal(i) / 100 + decimal.Decimal("0.001") * (i % 2),
        "shade": Shade.LIGHT if i % 2 else Shade.DARK,
        "note": None if i % 2 else f"note {i}",
        "branches": [branch(i * 2 + j) for j in range(2)],
        "trunk": branch(i) if i % 3 else None,
        "tags": ["x", str(i)] if i % 2 else None,
        "secret": f"secret {i}",
    }
    values.update(overrides)
    return Tree(**values)


class LazyTree:
    """Not a Strawberry object: what a type with lazily computed attributes looks like to the
    executor (read through properties and `__getattr__`, as Strawberry's default resolver reads)."""

    def __init__(self, i: int, fail: bool = False) -> None:
        self._tree = tree(i)
        self._i = i
        self._fail = fail

    @property
    def amount(self) -> decimal.Decimal:
        if self._fail:
            raise ArithmeticError("computed amount failed")
        return decimal.Decimal(self._i) / 8

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tree, name)


def _generator_leaves() -> Iterator[Leaf]:
    yield leaf(1)
    yield leaf(2)


TREES: dict[str, Any] = {
    "plain": [tree(i) for i in range(12)],
    "empty": [],
    "tuple": tuple(tree(i) for i in range(3)),
    "lazy": [LazyTree(i) for i in range(4)],
    "lazy_error": [LazyTree(1), LazyTree(2, fail=True), LazyTree(3)],
    # Nulls: in a nullable position (kept), in a non-null one at each depth (propagated).
    "null_note": [tree(0, note=None), tree(1, note=None)],
    "null_trunk": [tree(1, trunk=None)],
    "null_id": [tree(0), tree(1, id=None), tree(2)],
    "null_branch_name": [tree(0), tree(1, trunk=branch(1, name=None))],
    "null_branch_item": [tree(0, branches=[branch(0), None])],
    "null_branches": [tree(0, branches=None)],
    "null_first": [tree(0, trunk=branch(1, first=None))],
    "null_leaf_label": [tree(0, branches=[branch(0, leaves=[leaf(0), leaf(1, label=None)])])],
    "null_grid_item": [tree(0, trunk=branch(1, grid=[[1], None]))],
    "null_tag": [tree(1, tags=["a", None])],
    # Exception values inside list items, at each depth.
    "error_note": [tree(0), tree(1, note=ValueError("note failed")), tree(2)],
    "error_amount": [tree(0, amount=ValueError("amount failed"))],
    "error_leaf": [tree(0, branches=[branch(0, leaves=[leaf(0), leaf(1, shade=KeyError("k"))])])],
    "error_item": [tree(0, branches=[branch(0), RuntimeError("a whole item failed")])],
    # Coercion errors and values not of the expected shape.
    "bad_enum": [tree(0, shade="light")],
    "bad_amount": [tree(0, amount=decimal.Decimal("NaN"))],
    "naive_at": [tree(0, branches=[branch(0, leaves=[leaf(1, at=datetime(2026, 1, 1))])])],
    "bad_scalar": [tree(0, branches=[branch(0, name=12)])],
    "string_list": [tree(0, tags="not a list")],
    "generator_list": [tree(0, branches=[branch(0, leaves=_generator_leaves())])],
    "set_list": [tree(1, tags={"only"})],
    "dict_object": [tree(0, trunk={"name": "a dict"})],
    "int_object": [tree(0, trunk=3)],
}


async def _awaitable_shade() -> Shade:
    return Shade.DARK


_MADE: list[weakref.ref[Tree]] = []  # the objects "fresh_null_id" made, weakly


def _trees(kind: str) -> list[Any]:
    if kind == "fresh_null_id":  # a fresh object per execution, that the loop gives up on
        made = tree(1, id=None)
        _MADE.append(weakref.ref(made))
        return [made]
    if kind == "awaitable":  # a fresh coroutine per execution
        return [tree(1, trunk=branch(1, first=leaf(1, shade=_awaitable_shade())))]
    if kind == "generator_list":  # a fresh generator per execution
        return [tree(0, branches=[branch(0, leaves=_generator_leaves())])]
    return list(TREES[kind]) if kind != "tuple" else TREES[kind]


@strawberry.type
class Query:
    @strawberry.field
    def trees(self, kind: str) -> list[Tree]:
        return _trees(kind)

    @strawberry.field
    def one(self, kind: str) -> Tree | None:
        trees = _trees(kind)
        return trees[0] if trees else None


SCHEMA = build_schema(query=Query, router_secret=None, scalar_overrides=SCALAR_OVERRIDES)

PURE = """
    id amount shade note tags __typename
    branches { name leaves { label shade at } grid best { label } }
    trunk { name first { label shade at __typename } grid }
"""
QUERY = "query($kind: String!) { trees(kind: $kind) { %s } }"


async def execute(query: str, variables: dict[str, Any], role: Role = Role.CUSTOMER) -> str:
    result = await SCHEMA.execute(
        query, variable_values=variables, context_value=context(principal(role))
    )
    errors = [
        {
            "message": e.message,
            "path": e.path,
            "locations": [(loc.line, loc.column) for loc in e.locations or ()],
            "code": (e.extensions or {}).get("code"),
        }
        for e in result.errors or []
    ]
    return json.dumps({"data": result.data, "errors": errors})  # key order kept


async def both(
    query: str, variables: dict[str, Any], role: Role = Role.CUSTOMER
) -> tuple[str, str]:
    """Strawberry's stock executor's answer, then ours, on the same schema."""
    ours = SCHEMA.execution_context_class
    SCHEMA.execution_context_class = StrawberryGraphQLCoreExecutionContext
    try:
        stock = await execute(query, variables, role)
    finally:
        SCHEMA.execution_context_class = ours
    return stock, await execute(query, variables, role)


@pytest.fixture
def loops(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often the executor entered the pure loop, and how often the loop gave the value to
    the general path (nested objects and lists completed inside a loop are not counted)."""
    counts = {"ran": 0, "general": 0}
    depth = [0]

    def counted(complete: Any) -> Any:
        def run(*args: Any) -> Any:
            entry = depth[0] == 0
            counts["ran"] += entry
            depth[0] += 1
            try:
                return complete(*args)
            except shared.execution._GeneralPath:
                counts["general"] += entry
                raise
            finally:
                depth[0] -= 1

        return run

    for name in ("_complete_list", "_complete_object"):
        monkeypatch.setattr(shared.execution, name, counted(getattr(shared.execution, name)))
    return counts


@pytest.mark.parametrize("kind", [*TREES, "awaitable"])
async def test_pure_lists_answer_like_the_stock_executor(kind: str) -> None:
    stock, ours = await both(QUERY % PURE, {"kind": kind})
    assert ours == stock


@pytest.mark.parametrize("kind", ["plain", "null_trunk", "null_first", "error_leaf", "lazy"])
async def test_pure_objects_answer_like_the_stock_executor(kind: str) -> None:
    query = "query($kind: String!) { one(kind: $kind) { %s } }" % PURE  # noqa: UP031
    stock, ours = await both(query, {"kind": kind})
    assert ours == stock
    assert json.loads(ours)["data"] is not None


async def test_the_plain_answer_is_the_expected_one(loops: dict[str, int]) -> None:
    _, ours = await both(QUERY % PURE, {"kind": "plain"})
    assert loops == {"ran": 1, "general": 0}  # one loop for the whole list
    answer = json.loads(ours)
    assert answer["errors"] == []
    first = answer["data"]["trees"][1]
    assert list(first) == [
        "id", "amount", "shade", "note", "tags", "__typename", "branches", "trunk",
    ]  # fmt: skip
    assert first["amount"] == "0.011"
    assert first["shade"] == "LIGHT"
    assert first["__typename"] == "Tree"
    assert first["trunk"]["first"] == {
        "label": "leaf 10",
        "shade": "LIGHT",
        "at": "2026-01-01T00:00:10+00:00",
        "__typename": "Leaf",
    }
    assert first["branches"][1]["grid"] == [[3, None], [4]]


async def test_unusual_values_leave_only_their_subtree_to_the_general_path(
    loops: dict[str, int],
) -> None:
    stock, ours = await both(QUERY % PURE, {"kind": "error_note"})
    assert ours == stock
    # The list's loop gave up; each of the three trees was tried again and the second gave up;
    # its `branches`, `trunk` and `tags` (pure, no error) each took the loop again.
    assert loops == {"ran": 1 + 3 + 3, "general": 2}
    assert json.loads(ours)["errors"][0]["path"] == ["trees", 1, "note"]


async def test_aliases_fragments_and_directives_answer_like_the_stock_executor() -> None:
    query = """
        query($kind: String!, $yes: Boolean!, $no: Boolean!) {
            trees(kind: $kind) {
                a: amount b: amount amount
                ...F
                ... on Tree { s: shade trunk @include(if: $yes) { name } }
                note @skip(if: $yes)
                tags @include(if: $no)
                t: __typename
                branches { ...B best @skip(if: $no) { label } }
                branches { name n: name leaves { label } }
            }
        }
        fragment F on Tree { id trunk { first { label } } }
        fragment B on Branch { leaves { shade s2: shade } first @include(if: $yes) { at } }
    """
    for yes, no in ((True, False), (False, True), (True, True), (False, False)):
        variables = {"kind": "plain", "yes": yes, "no": no}
        stock, ours = await both(query, variables)
        assert ours == stock, (yes, no)
    stock, ours = await both(query, {"kind": "error_leaf", "yes": True, "no": False})
    assert ours == stock


async def test_a_field_with_a_resolver_keeps_its_selection_off_the_loop(
    loops: dict[str, int],
) -> None:
    stock, ours = await both(QUERY % "id computed trunk { name }", {"kind": "plain"})
    assert ours == stock
    # `trees` items hold a resolver field: only each `trunk` (pure) takes the loop.
    assert loops["general"] == 0
    assert loops["ran"] == sum(1 for t in TREES["plain"] if t.trunk is not None)


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.ADMIN])
async def test_a_ruled_field_keeps_its_selection_off_the_loop(
    role: Role, loops: dict[str, int]
) -> None:
    stock, ours = await both(QUERY % "id secret branches { name }", {"kind": "plain"}, role)
    assert ours == stock
    answer = json.loads(ours)
    if role is Role.CUSTOMER:
        assert answer["errors"]
        assert {e["code"] for e in answer["errors"]} == {"FORBIDDEN"}
    else:
        assert answer["errors"] == []
        assert answer["data"]["trees"][0]["secret"] == "secret 0"
    # The trees' selection holds the ruled field: never completed by the loop (each item's
    # `branches` list is, a pure subtree below it).
    assert loops["ran"] == (len(TREES["plain"]) if role is Role.ADMIN else 0)


async def test_a_fallback_keeps_nothing_of_its_request() -> None:
    """The loop signals the general path with an exception: one instance raised again and again
    would gather every fallback's frames in its traceback, and with them each request's objects
    (rows, the context) for the life of the process."""
    _MADE.clear()
    for _ in range(5):
        answer = await execute(
            "query($k: String!) { trees(kind: $k) { id } }", {"k": "fresh_null_id"}
        )
        assert '"path": ["trees", 0, "id"]' in answer  # the general path's error
    gc.collect()
    assert len(_MADE) == 5
    assert [ref() for ref in _MADE] == [None] * 5


@strawberry.type
class Ticker:
    @strawberry.subscription
    async def trees(self, count: int) -> AsyncIterator[Tree]:
        for i in range(count):
            yield tree(i)


TICKING = build_schema(
    query=Query, subscription=Ticker, router_secret=None, scalar_overrides=SCALAR_OVERRIDES
)


async def test_a_long_subscription_does_not_grow_the_plan_caches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """graphql-core runs each event on a shallow copy of the subscription's executor, and each
    event collects its fields anew: caches shared with the copies would keep every event's
    field groups for as long as the subscription lives."""
    executor_class = TICKING.execution_context_class
    parents: list[Any] = []
    per_event = executor_class.build_per_event_executor

    def tracked(self: Any, payload: Any) -> Any:
        parents.append(self)
        return per_event(self, payload)

    monkeypatch.setattr(executor_class, "build_per_event_executor", tracked)
    query = "subscription { trees(count: 40) { id branches { name leaves { label } } } }"
    stream = await TICKING.subscribe(query, context_value=context(principal(Role.CUSTOMER)))
    events = [event async for event in stream]  # type: ignore[union-attr]
    assert len(events) == 40
    assert all(not event.errors for event in events), events[0].errors
    assert events[-1].data["trees"]["branches"][0]["leaves"][0]["label"] == "leaf 780"
    [parent] = set(parents)
    sizes = len(parent._plans) + len(parent._group_plans) + len(parent._subtrees)
    assert sizes <= 4, sizes
