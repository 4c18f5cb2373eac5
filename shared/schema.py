"""How every subgraph assembles its Strawberry federation schema.

`SubgraphSchema` maps errors to the contract's codes on every path (see `shared.errors`);
`build_schema` adds the request guard (router signature, token, and the input every field refuses:
see `shared.input_guard`) and the parser/validation caches and installs the field access rules
(see `shared.authz`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from typing import Any, Final, TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ParserCache, SchemaExtension, ValidationCache
from strawberry.scalars import is_scalar
from strawberry.types import ExecutionContext
from strawberry.types.arguments import InputContext
from strawberry.types.base import StrawberryList, StrawberryMaybe, StrawberryOptional
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition

from shared import router_signature, telemetry
from shared.authz import AccessRules, PolicyCheck, install_access_rules
from shared.context import RequestContext
from shared.errors import Forbidden, map_errors_in_place
from shared.execution import install_executor
from shared.input_guard import check_literals, check_variables

FEDERATION_VERSION: Final = "2.7"

T = TypeVar("T")


# graphql-core's suggestions ("Did you mean "x"?", "Did you mean the enum value "X"?"): they
# reveal the schema, so production leaves them out (the router does the same).
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def hide_suggestions() -> bool:
    return os.environ.get("APP_ENV", "").strip().lower() == "production"


class SubgraphSchema(strawberry.federation.Schema):
    access_rules: AccessRules

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        map_errors_in_place(errors)
        if hide_suggestions():
            for error in errors:
                if "Did you mean" in error.message:
                    error.message = _SUGGESTION.sub("", error.message).strip()


def request_guard(router_secret: str | None) -> type[SchemaExtension]:
    """An extension refusing operations not signed by the router, sent with a bad token, or
    carrying input no field accepts (`shared.input_guard`)."""

    class RequestGuard(SchemaExtension):
        variables_checked = False

        def on_operation(self) -> Iterator[None]:
            execution = self.execution_context
            context: RequestContext = execution.context
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
            yield

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

    return RequestGuard


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
    schema = SubgraphSchema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        types=types,
        federation_version=FEDERATION_VERSION,
        scalar_overrides=scalar_overrides,
        extensions=[
            request_guard(router_secret),
            # Factories: the LRU caches themselves live at module level, shared by requests.
            lambda: ParserCache(maxsize=1024),
            lambda: ValidationCache(maxsize=1024),
            # Operation and resolver spans while tracing; else only the access log's name.
            telemetry.GraphQLTracing if telemetry.enabled() else telemetry.OperationName,
        ],
    )
    schema.access_rules = install_access_rules(schema, policies or {})
    install_executor(schema)
    return schema
