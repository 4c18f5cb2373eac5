"""ONE enforcement of `@authenticated`, `@requiresScopes` and `@policy` for every subgraph.

`install_access_rules(schema, policies)` reads the federation directives each field declares and
wraps that field's resolver (and subscriber) in graphql-core's schema with a check. Fields with no
directive are untouched, so they cost nothing. Because the check sits on the field, it holds
wherever the field is reached: root operations, nested selections and `_entities`.

Semantics follow Apollo Federation: `@requiresScopes(scopes: [["a", "b"], ["c"]])` means (a AND b)
OR c; `@policy` likewise over policy names. A policy is a named predicate over the caller, the
parent object and the field arguments (ownership rules need the data, which only the subgraph
has; the router lets policies through). A field declaring an unknown policy fails at start-up.
With ADMIN_MFA_REQUIRED, a field that needs the `admin` scope also needs a token issued after a
second factor (`Principal.mfa`), else FORBIDDEN.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLObjectType, GraphQLResolveInfo, default_field_resolver
from strawberry import Schema
from strawberry.federation.schema_directives import Authenticated, Policy, RequiresScopes
from strawberry.types.base import StrawberryObjectDefinition

from shared.context import Principal, RequestContext
from shared.errors import Forbidden

PolicyCheck = Callable[[Principal, Any, dict[str, Any]], bool | Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class AccessRule:
    authenticated: bool
    scopes: tuple[frozenset[str], ...]
    policies: tuple[tuple[str, ...], ...]

    @property
    def is_empty(self) -> bool:
        return not (self.authenticated or self.scopes or self.policies)


def rule_from_directives(directives: list[object]) -> AccessRule:
    authenticated = False
    scopes: tuple[frozenset[str], ...] = ()
    policies: tuple[tuple[str, ...], ...] = ()
    for directive in directives:
        if isinstance(directive, Authenticated):
            authenticated = True
        elif isinstance(directive, RequiresScopes):
            scopes = tuple(frozenset(group) for group in directive.scopes)
        elif isinstance(directive, Policy):
            policies = tuple(tuple(group) for group in directive.policies)
    return AccessRule(authenticated or bool(scopes) or bool(policies), scopes, policies)


def _principal(info: GraphQLResolveInfo[RequestContext]) -> Principal:
    context: RequestContext = info.context
    return context.require_principal()


ADMIN_SCOPE = "admin"
MFA_NEEDED = "Admin access needs a sign-in with a second factor (loginWithTotp)"


def _check_static(rule: AccessRule, principal: Principal, *, admin_mfa_required: bool) -> None:
    if not rule.scopes:
        return
    if not any(group <= principal.scopes for group in rule.scopes):
        raise Forbidden()
    # Without a second factor the `admin` scope does not count: the field stays open only
    # through a group that does not need it.
    if (
        admin_mfa_required
        and not principal.mfa
        and not any(ADMIN_SCOPE not in g and g <= principal.scopes for g in rule.scopes)
    ):
        raise Forbidden(MFA_NEEDED)


class AccessRules:
    """The rules of one schema, keyed by (type name, field name), and the policies they name."""

    def __init__(self, schema: Schema, policies: Mapping[str, PolicyCheck]) -> None:
        self.policies = dict(policies)
        # ADMIN_MFA_REQUIRED (set by shared.app from the settings): fields needing the `admin`
        # scope refuse tokens issued without a second factor.
        self.admin_mfa_required = False
        self.rules: dict[tuple[str, str], AccessRule] = {}
        for type_name, gql_type in schema._schema.type_map.items():
            if not isinstance(gql_type, GraphQLObjectType) or type_name.startswith("__"):
                continue
            definition = schema.get_type_by_name(type_name)
            if not isinstance(definition, StrawberryObjectDefinition):
                continue
            for field in definition.fields:
                rule = rule_from_directives(list(field.directives))
                if rule.is_empty:
                    continue
                name = schema.config.name_converter.get_graphql_name(field)
                for group in rule.policies:
                    for policy in group:
                        if policy not in self.policies:
                            raise RuntimeError(f"{type_name}.{name} names unknown policy {policy}")
                self.rules[(type_name, name)] = rule

    async def _policies_allow(
        self, rule: AccessRule, principal: Principal, root: Any, args: dict[str, Any]
    ) -> bool:
        for group in rule.policies:
            for name in group:
                verdict = self.policies[name](principal, root, args)
                if inspect.isawaitable(verdict):
                    verdict = await verdict
                if not verdict:
                    break
            else:
                return True
        return False

    def check(
        self,
        rule: AccessRule,
        root: Any,
        info: GraphQLResolveInfo[RequestContext],
        args: dict[str, Any],
    ) -> Awaitable[None] | None:
        """Raise when the caller may not resolve the field; an awaitable when a policy decides."""
        principal = _principal(info)
        _check_static(rule, principal, admin_mfa_required=self.admin_mfa_required)
        if not rule.policies:
            return None

        async def decide() -> None:
            if not await self._policies_allow(rule, principal, root, args):
                raise Forbidden()

        return decide()

    def _wrap(self, resolve: Callable[..., Any], rule: AccessRule) -> Callable[..., Any]:
        check = self.check

        def guarded(root: Any, info: GraphQLResolveInfo[RequestContext], **args: Any) -> Any:
            pending = check(rule, root, info, args)
            if pending is None:
                return resolve(root, info, **args)

            async def after_policy() -> Any:
                await pending
                result = resolve(root, info, **args)
                return await result if inspect.isawaitable(result) else result

            return after_policy()

        return guarded

    def install(self, schema: Schema) -> None:
        for (type_name, field_name), rule in self.rules.items():
            gql_type = schema._schema.type_map[type_name]
            assert isinstance(gql_type, GraphQLObjectType)
            field = gql_type.fields[field_name]
            field.resolve = self._wrap(field.resolve or default_field_resolver, rule)
            if field.subscribe is not None:
                field.subscribe = self._wrap(field.subscribe, rule)


def install_access_rules(schema: Schema, policies: Mapping[str, PolicyCheck]) -> AccessRules:
    rules = AccessRules(schema, policies)
    rules.install(schema)
    return rules
