"""How every subgraph assembles its Strawberry federation schema.

`SubgraphSchema` maps errors to the contract's codes on every path (see `shared.errors`);
`build_schema` adds one extension, `SubgraphOperation` (the request guard: router signature,
token, and the input every field refuses, see `shared.input_guard`; the parse and validation
caches; the access log's operation name), installs the field access rules (see `shared.authz`)
and the executor (see `shared.execution`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final, TypeVar

import strawberry
from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, parse
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.scalars import is_scalar
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionContext
from strawberry.types.arguments import InputContext
from strawberry.types.base import StrawberryList, StrawberryMaybe, StrawberryOptional
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition

from shared import router_signature, telemetry
from shared.authz import AccessRules, PolicyCheck, install_access_rules
from shared.context import RequestContext
from shared.errors import Forbidden, map_errors_in_place
from shared.execution import SubgraphExecutor, install_executor
from shared.extension_hooks import HOOKS, Hook, LeanExtensionsRunner, hooks_of
from shared.input_guard import check_literals, check_variables
from shared.metrics import OperationMetrics

FEDERATION_VERSION: Final = "2.7"

T = TypeVar("T")


# graphql-core's suggestions ("Did you mean "x"?", "Did you mean the enum value "X"?"): they
# reveal the schema, so production leaves them out (the router does the same).
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def hide_suggestions() -> bool:
    return os.environ.get("APP_ENV", "").strip().lower() == "production"


class SubgraphSchema(strawberry.federation.Schema):
    access_rules: AccessRules
    _hook_classes: dict[type, dict[str, Hook | None] | None]

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        """`LeanExtensionsRunner` when every extension of the request is one it drives."""
        known = self.__dict__.get("_hook_classes")
        if known is None:
            known = self._hook_classes = {}
        hooks: dict[str, list[tuple[Hook, SchemaExtension]]] = {name: [] for name in HOOKS}
        for extension in extensions:
            cls = type(extension)
            if cls not in known:
                known[cls] = hooks_of(cls, (OperationMetrics, SubgraphOperation))
            of_class = known[cls]
            if of_class is None:
                return super().create_extensions_runner(execution_context, extensions)
            for name, hook in of_class.items():
                if hook is not None:
                    hooks[name].append((hook, extension))
        return LeanExtensionsRunner(execution_context, extensions, hooks)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        map_errors_in_place(errors)
        if hide_suggestions():
            for error in errors:
                if "Did you mean" in error.message:
                    error.message = _SUGGESTION.sub("", error.message).strip()


PREPARED_CACHE_SIZE: Final = 1024
"""Distinct query texts whose parsed document and validation errors a schema remembers."""


@dataclass(frozen=True, slots=True)
class Prepared:
    document: DocumentNode
    errors: tuple[GraphQLError, ...]


class SubgraphOperation(SchemaExtension):
    """The one per-request extension of `build_schema` (each extension costs Strawberry a
    context manager per hook per request): the request guard, the parse and validation
    caches and the access log's operation name.

    - Guard (`on_operation`): operations not signed by the router, with a bad token, or
      carrying input no field accepts (`shared.input_guard`) are refused.
    - Caches (`on_operation`, once the guard passed): the query text's document and
      validation errors, parsed and validated once per distinct text and schema (keyed by the
      text, not by the document, whose hash walks the whole tree). A text that does not parse
      is left to Strawberry's parse step, which reports it as before. A valid document is
      registered with the executor (`SubgraphExecutor.register_document`): its executions
      share their pure-subtree plans for as long as it stays cached.
    - Operation name for the access log (`shared.telemetry.record_operation`), after the
      operation.
    """

    router_secret: str | None = None
    prepare: Callable[[str, tuple[type[ASTValidationRule], ...]], Prepared | None]
    variables_checked = False

    def on_operation(self) -> Iterator[None]:
        execution = self.execution_context
        context: RequestContext = execution.context
        router_secret = self.router_secret
        if router_secret is not None and not context.router_verified:
            # Before the signature: signing re-serialises the variables, which must not meet
            # a depth or an integer the serialiser refuses.
            check_variables(execution.variables)
            self.variables_checked = True
        signed = (
            router_secret is None
            or context.router_verified
            or router_signature.verify(
                router_secret,
                execution.query,
                execution.variables,
                execution.operation_extensions,
            )
        )
        if not signed:
            raise Forbidden("Requests must come through the router")
        if router_secret is not None:
            context.router_verified = True  # X-Forwarded-For is the router's: trusted
        if execution.graphql_document is None and execution.query and not execution.parse_options:
            prepared = self.prepare(execution.query, execution.validation_rules)
            if prepared is not None:
                execution.graphql_document = prepared.document
                # A list of its own: Strawberry's error processing rewrites it in place.
                execution.pre_execution_errors = list(prepared.errors)
        yield
        telemetry.record_operation(execution.operation_name)

    def on_execute(self) -> Iterator[None]:
        # Here rather than in on_operation: Strawberry drops errors raised there for
        # subscriptions, which would end them with a bare `complete`.
        execution = self.execution_context
        context: RequestContext = execution.context
        if context.auth_error is not None:
            raise context.auth_error
        if not self.variables_checked:
            check_variables(execution.variables)
        check_literals(execution.graphql_document, execution.query)
        yield


def subgraph_operation(router_secret: str | None) -> type[SubgraphOperation]:
    """The `SubgraphOperation` of one schema; `build_schema` binds its caches to the schema."""
    return type("SubgraphOperation", (SubgraphOperation,), {"router_secret": router_secret})


def _bind_prepared_cache(
    extension: type[SubgraphOperation], schema: GraphQLSchema, executor: type[SubgraphExecutor]
) -> None:
    @lru_cache(maxsize=PREPARED_CACHE_SIZE)
    def prepare(query: str, rules: tuple[type[ASTValidationRule], ...]) -> Prepared | None:
        try:
            document = parse(query)
        except Exception:  # reported by Strawberry's own parse step
            return None
        errors = tuple(validate_document(schema, document, rules))
        if not errors:  # its executions share their plans while it is cached
            executor.register_document(document)
        return Prepared(document, errors)

    extension.prepare = staticmethod(prepare)


_PASS = 0  # a scalar or an enum: graphql-core's value is the Python value
_COPY = 1  # a list of those: copied (graphql-core shares defaults between requests)
_CONVERT = 2  # anything else: Strawberry's own conversion


def _leaf(type_: object, scalar_registry: Mapping[object, Any]) -> bool:
    return (
        isinstance(type_, StrawberryEnumDefinition)
        or has_enum_definition(type_)
        or (is_scalar(type_, scalar_registry))
    )


def _conversion(type_: object, scalar_registry: Mapping[object, Any]) -> int:
    if isinstance(type_, StrawberryMaybe):
        return _CONVERT
    if isinstance(type_, StrawberryOptional):
        type_ = type_.of_type
    if _leaf(type_, scalar_registry):
        return _PASS
    if isinstance(type_, StrawberryList):
        item = type_.of_type
        if isinstance(item, StrawberryOptional) and not isinstance(item, StrawberryMaybe):
            item = item.of_type
        if _leaf(item, scalar_registry):
            return _COPY
    return _CONVERT


def direct_input(cls: type[T]) -> type[T]:
    """Build this input type from its GraphQL value without Strawberry's generic conversion
    (per field: the name converted, the annotation resolved, a dozen type tests; about 5% of
    the payments subgraph's CPU for a list query with a one-field filter). The same values:
    scalars and enums as graphql-core coerced them, lists of them copied, anything else through
    Strawberry (`InputContext.convert`). Uses Strawberry's `from_input` hook."""
    definition = cls.__strawberry_definition__  # type: ignore[attr-defined]
    if any(isinstance(field.type, StrawberryMaybe) for field in definition.fields):
        # Strawberry skips its null check of `Maybe` fields for types with `from_input`.
        raise TypeError(f"{cls.__name__}: direct_input does not support Maybe fields")
    plan: list[tuple[str, str, int, Any]] | None = None

    def from_input(type_: type, value: Mapping[str, Any], context: InputContext) -> Any:
        nonlocal plan
        if plan is None:
            plan = []
            for field in definition.fields:
                field_type = field.resolve_type(type_definition=definition)
                name = context.config.name_converter.from_field(field)
                how = _conversion(field_type, context.scalar_registry)
                plan.append((name, field.python_name, how, field_type))
        kwargs: dict[str, Any] = {}
        for name, python_name, how, field_type in plan:
            if name not in value:
                continue
            item = value[name]
            if how == _PASS or item is None:
                kwargs[python_name] = item
            elif how == _COPY:
                kwargs[python_name] = list(item)
            else:
                kwargs[python_name] = context.convert(item, field_type, name)
        return type_(**kwargs)

    definition.from_input = from_input
    return cls


def build_schema(
    *,
    query: type,
    mutation: type | None = None,
    subscription: type | None = None,
    types: tuple[type, ...] = (),
    policies: Mapping[str, PolicyCheck] | None = None,
    router_secret: str | None,
    scalar_overrides: dict[object, Any] | None = None,
) -> SubgraphSchema:
    operation = subgraph_operation(router_secret)
    schema = SubgraphSchema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        types=types,
        federation_version=FEDERATION_VERSION,
        scalar_overrides=scalar_overrides,
        extensions=[
            operation,
            # Operation and resolver spans, only while tracing.
            *([telemetry.GraphQLTracing] if telemetry.enabled() else []),
        ],
    )
    schema.access_rules = install_access_rules(schema, policies or {})
    executor = install_executor(schema)
    _bind_prepared_cache(operation, schema._schema, executor)
    return schema
