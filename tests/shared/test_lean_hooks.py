"""`shared.extension_hooks.LeanExtensionsRunner`: the request's extension hooks driven without
Strawberry's per-request context managers, with the same answers, errors, metrics and access log
as Strawberry's own runner on every path (each request below runs once with each runner), and
Strawberry's code it mirrors pinned."""

from __future__ import annotations

import hashlib
import importlib.metadata
import inspect
import json
from collections.abc import Iterator
from typing import Any

import pytest
import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import ExtensionContextManagerBase, OperationContextManager
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema.schema import Schema
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from shared import metrics, router_signature, telemetry
from shared.errors import Unauthenticated
from shared.extension_hooks import Hooks, LeanExtensionsRunner
from shared.metrics import REGISTRY, OperationMetrics, operation_metrics
from shared.schema import SubgraphSchema, build_schema
from shared.scopes import Role
from tests.shared.test_authz import context, principal

SECRET = "lean-hooks-secret"


@strawberry.type
class Query:
    @strawberry.field
    def hello(self, name: str = "you") -> str:
        return f"hello {name}"

    @strawberry.field
    def broken(self) -> str:
        raise RuntimeError("SELECT * FROM secrets")


@strawberry.type
class Mutation:
    @strawberry.mutation
    def bump(self, by: int) -> int:
        return by + 1


def make_schema() -> SubgraphSchema:
    schema = build_schema(query=Query, mutation=Mutation, router_secret=SECRET)
    schema.extensions = (operation_metrics("payments"), *schema.extensions)  # as shared.app
    return schema


SCHEMA = make_schema()


def signed(query: str | None, variables: dict[str, Any] | None) -> dict[str, Any]:
    return {router_signature.SIGNATURE_EXTENSION: router_signature.sign(SECRET, query, variables)}


def counters() -> dict[tuple[str, ...], float]:
    found = {}
    for family in REGISTRY.collect():
        if family.name == "bff_graphql_operations":
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


async def answer(
    lean: bool,
    query: str | None,
    variables: dict[str, Any] | None = None,
    *,
    sign: bool = True,
    auth_error: Exception | None = None,
    operation_name: str | None = None,
    allowed: set[OperationType] | None = None,
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    """One request through `SCHEMA` with the lean runner or Strawberry's: its answer or the
    error it raised, the metrics it counted and the operation name the access log got."""
    runners: list[str] = []
    made = (SubgraphSchema if lean else Schema).create_extensions_runner

    def spy(ctx: Any, exts: Any) -> Any:
        runner = made(SCHEMA, ctx, exts)
        runners.append(type(runner).__name__)
        return runner

    monkeypatch.setattr(SCHEMA, "create_extensions_runner", spy)
    before = counters()
    record = telemetry.AccessRecord()
    token = telemetry.access_record.set(record)
    try:
        result = await SCHEMA.execute(
            query,
            variable_values=variables,
            context_value=context(principal(Role.CUSTOMER), auth_error),
            operation_name=operation_name,
            allowed_operation_types=allowed,
            operation_extensions=signed(query, variables) if sign else None,
        )
        outcome: Any = {
            "data": result.data,
            "errors": [
                {
                    "message": e.message,
                    "path": e.path,
                    "locations": [(loc.line, loc.column) for loc in e.locations or ()],
                    "extensions": e.extensions,
                }
                for e in result.errors or []
            ],
            "extensions": result.extensions,
        }
    except Exception as error:
        outcome = {"raised": type(error).__name__, "message": str(error)}
    finally:
        telemetry.access_record.reset(token)
    after = counters()
    counted = {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}
    assert runners == ["LeanExtensionsRunner" if lean else "SchemaExtensionsRunner"]
    return json.dumps(
        {"outcome": outcome, "counted": sorted(counted.items()), "log": record.operation_name},
        default=str,
    )


CASES: dict[str, dict[str, Any]] = {
    "query": {"query": "query Hi($n: String!) { hello(name: $n) }", "variables": {"n": "x"}},
    "anonymous": {"query": "{ hello }"},
    "mutation": {"query": "mutation Bump { bump(by: 2) }"},
    "resolver_error": {"query": "query B { hello broken }"},  # masked, partial data
    "syntax_error": {"query": "query {"},
    "validation_error": {"query": "query V { nope }"},
    "bad_variable": {"query": "query($n: String!) { hello(name: $n) }", "variables": {"n": 1}},
    "missing_query": {"query": None},
    "empty_query": {"query": ""},
    "unknown_operation": {"query": "query A { hello }", "operation_name": "B"},
    "two_operations_no_name": {"query": "query A { hello } query B { hello }"},
    "not_allowed": {"query": "mutation { bump(by: 1) }", "allowed": {OperationType.QUERY}},
    "unsigned": {"query": "{ hello }", "sign": False},  # refused in on_operation
    "unsigned_broken": {"query": "{ hello ", "sign": False},
    "auth_error": {"query": "{ hello }", "auth_error": Unauthenticated("Token expired")},
    "guarded_input": {  # refused in on_execute (shared.input_guard)
        "query": "query($n: String!) { hello(name: $n) }",
        "variables": {"n": "x\u0000y"},
    },
}


@pytest.mark.parametrize("case", CASES)
async def test_the_lean_runner_answers_like_strawberrys(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    kwargs = CASES[case]
    stock = await answer(False, monkeypatch=monkeypatch, **kwargs)
    lean = await answer(True, monkeypatch=monkeypatch, **kwargs)
    assert lean == stock
    assert json.loads(lean)["counted"] or case in {"missing_query", "empty_query"}


def test_tracing_or_any_other_extension_keeps_strawberrys_runner() -> None:
    class Other(SchemaExtension):
        def on_operation(self) -> Iterator[None]:
            yield

    ctx = ExecutionContext(query="{ hello }", schema=SCHEMA, allowed_operations=())
    ours = [cls() for cls in SCHEMA.extensions]
    assert isinstance(SCHEMA.create_extensions_runner(ctx, ours), LeanExtensionsRunner)
    for extra in (Other(), telemetry.GraphQLTracing()):
        runner = SCHEMA.create_extensions_runner(ctx, [*ours, extra])
        assert type(runner) is SchemaExtensionsRunner


# -- the hooks' semantics, against Strawberry's context manager ---------------------------------


class Boom(Exception):
    pass


def script(label: str, events: list[str], mode: str) -> type[OperationMetrics]:
    """An extension of ours whose `on_operation` does what `mode` says."""

    def on_operation(self: Any) -> Iterator[None]:
        events.append(f"{label} enter")
        if mode == "raise_enter":
            raise Boom(f"{label} enter")
        if mode == "no_yield":
            return
        try:
            yield
        except Boom as error:
            events.append(f"{label} got {error}")
            if mode == "suppress":
                return
            if mode == "replace":
                raise ValueError(f"{label} replaced") from error
            raise
        events.append(f"{label} exit")
        if mode == "raise_exit":
            raise Boom(f"{label} exit")
        if mode == "yield_twice":
            yield

    return type(label, (OperationMetrics,), {"on_operation": on_operation, "_record": _nothing})


def _nothing(self: Any, duration: float, failed: bool) -> None:
    pass


MODES = ("plain", "raise_enter", "no_yield", "suppress", "replace", "raise_exit", "yield_twice")


async def _drive(lean: bool, modes: tuple[str, str], body_raises: bool) -> list[str]:
    events: list[str] = []
    extensions = [script(f"e{i}", events, mode)() for i, mode in enumerate(modes)]
    if lean:
        manager: Any = Hooks([(type(e).on_operation, e) for e in extensions])
    else:
        manager = OperationContextManager(extensions)  # type: ignore[arg-type]
    try:
        async with manager:
            events.append("body")
            if body_raises:
                raise Boom("body")
        events.append("after")
    except Exception as error:
        events.append(f"raised {type(error).__name__}: {error}")
    return events


@pytest.mark.parametrize("outer", MODES)
@pytest.mark.parametrize("inner", MODES)
@pytest.mark.parametrize("body_raises", [False, True])
async def test_hooks_enter_exit_and_errors_as_strawberry_runs_them(
    outer: str, inner: str, body_raises: bool
) -> None:
    stock = await _drive(False, (outer, inner), body_raises)
    assert await _drive(True, (outer, inner), body_raises) == stock


# -- what is relied on in Strawberry ------------------------------------------------------------

PINNED = {
    "Schema.execute": Schema.execute,
    "Schema._prepare_operation_async": Schema._prepare_operation_async,
    "Schema._execute_operation": Schema._execute_operation,
    "Schema._handle_execution_result": Schema._handle_execution_result,
    "Schema.create_extensions_runner": Schema.create_extensions_runner,
    "SchemaExtensionsRunner": SchemaExtensionsRunner,
    "ExtensionContextManagerBase": ExtensionContextManagerBase,
}
PINNED_SHA256 = {  # Strawberry 0.341.2 (uv.lock)
    "Schema.execute": "a4b76c96d614f4d0",
    "Schema._prepare_operation_async": "0973d3b5a73f65fd",
    "Schema._execute_operation": "5d64cc27e74797f9",
    "Schema._handle_execution_result": "56893f850faa9f40",
    "Schema.create_extensions_runner": "ee54557db9341b39",
    "SchemaExtensionsRunner": "32c30abf56616b97",
    "ExtensionContextManagerBase": "b0fedb683f49fb13",
}


def test_strawberrys_runner_code_is_the_one_mirrored() -> None:
    """`LeanExtensionsRunner` and `Hooks` mirror Strawberry 0.341.2's `Schema.execute` (which
    hooks it enters, in which order, what it does with errors) and `ExtensionContextManagerBase`
    (contextlib semantics). When Strawberry changes any of it, this fails: read the new code,
    adapt `shared.extension_hooks` if needed, then update the digests."""
    assert importlib.metadata.version("strawberry-graphql") == "0.341.2"
    digests = {
        name: hashlib.sha256(inspect.getsource(obj).encode()).hexdigest()[:16]
        for name, obj in PINNED.items()
    }
    assert digests == PINNED_SHA256


def test_metrics_extension_is_counted_once_per_operation() -> None:
    assert issubclass(operation_metrics("payments"), metrics.OperationMetrics)
