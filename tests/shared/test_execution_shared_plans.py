"""`shared.execution`, plans across requests: the pure-subtree plans of a cached document are
made once and shared by its executions when its selections cannot vary between requests, and
made per request otherwise. Every answer is compared with Strawberry's stock executor's, request
after request, in orders where a plan wrongly kept from an earlier request would show."""

from __future__ import annotations

import gc
import json
from typing import Annotated, Any

import pytest
import strawberry
from graphql import parse, specified_rules
from graphql.execution.collect_fields import DeferUsage, FieldDetails
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from shared.execution import DocumentPlans, SubgraphExecutor
from shared.scalars import SCALAR_OVERRIDES
from shared.schema import build_schema
from shared.scopes import Role
from tests.shared.test_authz import context, principal
from tests.shared.test_execution_subtrees import Branch, Leaf, Ticker, Tree, branch, leaf, tree

Thing = Annotated[Leaf | Branch, strawberry.union("Thing")]


@strawberry.type
class Query:
    @strawberry.field
    def trees(self, count: int, broken: bool = False) -> list[Tree]:
        if broken:  # values the pure loop leaves to the general path
            return [tree(0), tree(1, note=ValueError("note failed")), tree(2, id=None)]
        return [tree(i) for i in range(count)]

    @strawberry.field
    def things(self, count: int) -> list[Thing]:
        return [leaf(i) if i % 2 else branch(i) for i in range(count)]


SCHEMA = build_schema(
    query=Query, subscription=Ticker, router_secret=None, scalar_overrides=SCALAR_OVERRIDES
)
EXECUTOR: type[SubgraphExecutor] = SCHEMA.execution_context_class  # type: ignore[assignment]


async def execute(query: str, variables: dict[str, Any]) -> str:
    result = await SCHEMA.execute(
        query, variable_values=variables, context_value=context(principal(Role.CUSTOMER))
    )
    errors = [
        {"message": e.message, "path": e.path, "code": (e.extensions or {}).get("code")}
        for e in result.errors or []
    ]
    return json.dumps({"data": result.data, "errors": errors})


async def stock(query: str, variables: dict[str, Any]) -> str:
    SCHEMA.execution_context_class = StrawberryGraphQLCoreExecutionContext
    try:
        return await execute(query, variables)
    finally:
        SCHEMA.execution_context_class = EXECUTOR


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The object plans made (by type name), shared or not."""
    names: list[str] = []
    make = SubgraphExecutor._make_object_plan

    def counted(self: SubgraphExecutor, object_type: Any, field_details_list: Any) -> Any:
        names.append(object_type.name)
        return make(self, object_type, field_details_list)

    monkeypatch.setattr(SubgraphExecutor, "_make_object_plan", counted)
    return names


def plans_of(query: str) -> DocumentPlans:
    """The shared plans of the cached document of `query` (executed at least once)."""
    (extension,) = [e for e in SCHEMA.extensions if isinstance(e, type)]
    rules = tuple(specified_rules)  # Strawberry's default, as the executions above passed
    prepared = extension.prepare(query, rules)  # type: ignore[attr-defined]
    assert prepared is not None
    entry = EXECUTOR.documents.get(id(prepared.document))
    assert entry is not None
    assert entry[0]() is prepared.document
    return entry[1]


STATIC = """
    query($n: Int!) {
        trees(count: $n) {
            a: amount amount ...Ids
            ... on Tree { s: shade trunk @include(if: true) { name } }
            note @skip(if: false)
            tags @include(if: false)
            branches { ...B }
            branches { n: name leaves { label } }
        }
    }
    fragment Ids on Tree { id t: __typename trunk { first { label } } }
    fragment B on Branch { leaves { shade } best { label } }
"""


async def test_a_static_selection_is_planned_once_for_every_request(made: list[str]) -> None:
    for n in (3, 5, 0, 4):
        assert await execute(STATIC, {"n": n}) == await stock(STATIC, {"n": n})
    # The first request made each plan once (Tree, Branch x2 groups, Leaf x4 groups...);
    # the next ones made none.
    first = len(made)
    assert first > 0
    for n in (2, 6):
        assert await execute(STATIC, {"n": n}) == await stock(STATIC, {"n": n})
    assert len(made) == first
    plans = plans_of(STATIC)
    assert plans.objects
    assert all(plan is not None for plan in plans.objects.values())


async def test_include_with_a_variable_is_planned_per_request(made: list[str]) -> None:
    """The same query, the same document, `@include(if: $v)` flipping between requests: a
    plan kept from the previous request would answer with the previous selection."""
    query = """
        query($n: Int!, $v: Boolean!, $w: Boolean!) {
            trees(count: $n) {
                id
                trunk { name first @include(if: $v) { label } }
                branches { ... on Branch @skip(if: $w) { name } leaves { label } }
                ...F
            }
        }
        fragment F on Tree { shade @include(if: $v) note @skip(if: $w) }
    """
    answers = set()
    for v, w in ((True, False), (False, True), (True, True), (False, False), (True, False)):
        variables = {"n": 4, "v": v, "w": w}
        ours = await execute(query, variables)
        assert ours == await stock(query, variables), (v, w)
        answers.add(ours)
    assert len(answers) == 4  # the selection did change
    # Shared: only what lies below every condition (`first { label }`, `leaves { label }`);
    # the trees, trunks and branches are planned per request.
    shared = [plan for plan in plans_of(query).objects.values() if plan is not None]
    assert shared
    assert {name for plan in shared for name, *_ in plan} == {"label"}
    assert made.count("Tree") == 5


async def test_a_variable_condition_deep_down_keeps_the_levels_above_per_request() -> None:
    query = """
        query($n: Int!, $v: Boolean!) {
            trees(count: $n) { id branches { name leaves { label shade @include(if: $v) } } }
        }
    """
    for v in (True, False, True):
        variables = {"n": 3, "v": v}
        assert await execute(query, variables) == await stock(query, variables)
    # `trees` items and `branches` hold the conditional field below them: not shared.
    assert not plans_of(query).objects


async def test_a_group_under_two_types_and_an_abstract_type() -> None:
    """One field group (`things`'s) collected for two runtime types of a union: a plan per
    (type, nodes); and the same fragments under `trees`."""
    query = """
        query($n: Int!) {
            things(count: $n) {
                __typename
                ... on Leaf { label shade }
                ... on Branch { name leaves { label } first { label } }
                ...Named
            }
        }
        fragment Named on Branch { n: name }
    """
    for n in (4, 1, 5, 0, 3):
        assert await execute(query, {"n": n}) == await stock(query, {"n": n})
    plans = plans_of(query)
    names = {p[0][0] for p in plans.objects.values() if p}  # first response name per plan
    assert {"__typename"} <= names
    assert len(plans.objects) >= 2  # Leaf and Branch under the same nodes


async def test_unusual_values_still_leave_to_the_general_path_with_shared_plans() -> None:
    query = """
        query($n: Int!, $broken: Boolean!) {
            trees(count: $n, broken: $broken) { id note amount branches { name } }
        }
    """
    for broken in (False, True, False, True):
        variables = {"n": 3, "broken": broken}
        ours = await execute(query, variables)
        assert ours == await stock(query, variables)
        paths = [e["path"] for e in json.loads(ours)["errors"]]
        assert paths == ([["trees", 1, "note"], ["trees", 2, "id"]] if broken else [])
    assert plans_of(query).objects  # the trees' plan was shared


def test_the_plans_die_with_their_document() -> None:
    document = parse("{ trees(count: 1) { id } }")
    EXECUTOR.register_document(document)
    key = id(document)
    entry = EXECUTOR.documents[key]
    assert entry[0]() is document
    EXECUTOR.register_document(document)  # again: the same entry
    assert EXECUTOR.documents[key] is entry
    del document, entry
    gc.collect()
    assert key not in EXECUTOR.documents


@pytest.mark.parametrize(
    ("query", "shared"),
    [
        ("{ trees(count: 1) { id branches { name } } }", True),
        ("{ trees(count: 1) { id @include(if: true) branches @skip(if: false) { name } } }", True),
        ("query($v: Boolean!) { trees(count: 1) { id @include(if: $v) } }", False),
        ("query($v: Boolean!) { trees(count: 1) { branches { name @skip(if: $v) } } }", False),
        ("{ trees(count: 1) { ... @defer { id } } }", False),
        ("{ trees(count: 1) { ...F } } fragment F on Tree { id }", True),
        ("{ trees(count: 1) { ...F } } fragment F on Tree @deprecated { id }", False),
        (
            "query($v: Boolean!) { trees(count: 1) { ...F @include(if: $v) } } "
            "fragment F on Tree { id }",
            False,
        ),
        (
            "{ trees(count: 1) { ...F } } fragment F on Tree { ...G } fragment G on Tree { ...F }",
            False,
        ),
        ("{ trees(count: 1) { ...Missing } }", False),
        ("{ trees(count: 1) { branches @stream { name } } }", False),
    ],
)
def test_what_may_be_shared(query: str, shared: bool) -> None:
    """The static test of a selection (the documents need not be valid: the test stands on its
    own and answers "not shared" for anything unusual)."""
    document = parse(query)
    plans = DocumentPlans(document)
    (root,) = document.definitions[0].selection_set.selections  # type: ignore[attr-defined]
    assert (plans.key(object(), [FieldDetails(root, None, None)]) is not None) is shared


def test_deferred_or_fragment_variable_groups_are_never_shared() -> None:
    document = parse("{ trees(count: 1) { id } }")
    plans = DocumentPlans(document)
    (root,) = document.definitions[0].selection_set.selections  # type: ignore[attr-defined]
    assert plans.key(object(), [FieldDetails(root, None, None)]) is not None
    deferred = DeferUsage(None, None, None)  # type: ignore[arg-type]
    assert plans.key(object(), [FieldDetails(root, deferred, None)]) is None
    assert plans.key(object(), [FieldDetails(root, None, object())]) is None  # type: ignore[arg-type]


async def test_a_long_subscription_keeps_the_shared_plans_bounded() -> None:
    query = "subscription($n: Int!) { trees(count: $n) { id branches { name leaves { label } } } }"

    async def run(count: int) -> list[Any]:
        stream = await SCHEMA.subscribe(
            query, variable_values={"n": count}, context_value=context(principal(Role.CUSTOMER))
        )
        return [event async for event in stream]  # type: ignore[union-attr]

    events = await run(10)
    assert len(events) == 10
    assert not any(e.errors for e in events)
    plans = plans_of(query)
    sizes = (len(plans.objects), len(plans.values), len(plans.static))
    events = await run(60)
    assert len(events) == 60
    assert not any(e.errors for e in events)
    assert events[-1].data["trees"]["branches"][0]["leaves"][0]["label"] == "leaf 1180"
    assert (len(plans.objects), len(plans.values), len(plans.static)) == sizes


async def test_groups_chosen_by_variables_above_cannot_grow_the_shared_plans() -> None:
    """Which nodes form a group can depend on conditions ABOVE it, even when everything below
    it is static: n conditional copies of one field make up to 2^n - 1 groups of the same
    document. Past the document's bound (a few plans per field node) the plans are made per
    request, as before; answers stay the stock executor's."""
    n = 7
    copies = " ".join(
        f"... @include(if: $v{k}) {{ branches {{ name leaves {{ label }} }} }}" for k in range(n)
    )
    declared = ", ".join(f"$v{k}: Boolean!" for k in range(n))
    query = f"query({declared}) {{ trees(count: 2) {{ id {copies} }} }}"
    for mask in range(2**n):
        variables = {f"v{k}": bool(mask >> k & 1) for k in range(n)}
        if mask % 16 == 5:  # a sample compared with the stock executor: the bound changes nothing
            assert await execute(query, variables) == await stock(query, variables), mask
        else:
            await execute(query, variables)
    plans = plans_of(query)
    assert len(plans.values) + len(plans.objects) <= plans.limit
    assert plans.limit < 2**n  # the bound is the document's size, not the requests'
