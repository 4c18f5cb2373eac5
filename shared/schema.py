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
from typing import Any, Final

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ParserCache, SchemaExtension, ValidationCache
from strawberry.types import ExecutionContext

from shared import router_signature, telemetry
from shared.authz import AccessRules, PolicyCheck, install_access_rules
from shared.context import RequestContext
from shared.errors import Forbidden, map_errors_in_place
from shared.input_guard import check_literals, check_variables

FEDERATION_VERSION: Final = "2.7"


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
    return schema
