"""graphql-core's executor with a shorter path for the fields that only read an attribute.

A list page is mostly leaf fields read from an attribute (`id`, `amount`, `status`, ...): 20
payments x 5 fields. graphql-core runs each through its general path: the field's definition
looked up, a `GraphQLResolveInfo` of 15 values built, Strawberry's resolver wrapper (three calls
to reach `getattr`), the awaitable test, `complete_value`'s type dispatch (non-null, list, leaf,
abstract, object) and the leaf's coercion. `SubgraphExecutor` (Strawberry's
`execution_context_class`) serves a field in one step instead when, and only when:

- its resolver in the built schema is still the one Strawberry made for a field with no resolver
  of its own and no field extension (`StrawberryField.is_basic_field`): a field with an access
  rule has had its resolver wrapped by `shared.authz` and is never served here, nor a field
  with a resolver, nor `__typename`;
- its type is a scalar or an enum (or a non-null one);
- no resolver middleware runs (a `SchemaExtension.resolve` hook: tracing);
- the value read is not awaitable.

What it does is what the general path does, in the same order: the attribute read as
Strawberry's default resolver reads it, an `Exception` value raised as the field's error, a
null checked against the field's nullability (same message), the value coerced by the type's
own `coerce_output_value` (enums through a lookup table that gives the same name:
`enum_output`), a null or undefined coercion refused, and every error handled by
`handle_field_error` at the field's path.

A field of an object or list type read from an attribute the same way (no resolver, no field
extension, no rule) has the attribute read directly instead of through Strawberry's wrapper and
the middleware lookup; its completion (lists, objects, their errors) is graphql-core's.

Within a selection set (`execute_fields`), such fields are served inline, without the response
path object graphql-core makes per field (made only when an error needs it); the other fields,
the handling of awaitables and errors are graphql-core's.

`is_awaitable` is answered from the value's type once that type is known not to be awaitable
(an `__await__` on the class is what makes a value awaitable); coroutines and generators are
always tested in full.
"""

from __future__ import annotations

import operator
from collections.abc import Awaitable, Callable, Mapping
from types import CoroutineType, GeneratorType
from typing import TYPE_CHECKING, Any, Final

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    Undefined,
)
from graphql.execution.executor import to_nodes
from graphql.pyutils import Path, gather_with_cancel, inspect
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.base import StrawberryObjectDefinition

if TYPE_CHECKING:
    from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
    from strawberry import Schema

__all__ = ["SubgraphExecutor", "enum_output", "install_executor", "is_awaitable", "plain_fields"]

# Strawberry's name for the resolver it makes for a field without one (`from_resolver`).
_BASIC_RESOLVER_NAME: Final = "_get_basic_result"

# ----------------------------------------------------------------------------- is_awaitable

_MAX_KNOWN_TYPES: Final = 2048
_not_awaitable: set[type] = {
    type(None), bool, int, float, str, bytes, bytearray, list, tuple, dict, set, frozenset,
}  # fmt: skip


def is_awaitable(value: Any) -> bool:
    """graphql-core's test (Strawberry's `optimized_is_awaitable`), answered from the type for
    every type already found not awaitable: a class without `__await__` that is neither a
    coroutine nor a generator (whose awaitability depends on the instance)."""
    cls = type(value)
    if cls in _not_awaitable:
        return False
    if optimized_is_awaitable(value):
        return True
    if (
        not issubclass(cls, CoroutineType | GeneratorType)
        and not hasattr(cls, "__await__")
        and len(_not_awaitable) < _MAX_KNOWN_TYPES
    ):
        _not_awaitable.add(cls)
    return False


# ----------------------------------------------------------------------------- leaf coercion


def enum_output(enum_type: GraphQLEnumType) -> Callable[[Any], Any]:
    """The enum type's `coerce_output_value`, for a Strawberry enum by one dict lookup.

    Strawberry's compares the member's value with each GraphQL value in order and returns the
    first name that matches; the table keeps that first name per value, so the answer is the
    same. Anything else (not a member, a value not in the table, values that cannot be hashed)
    goes to the type's own method, which gives the same result or error as before."""
    general: Callable[[Any], Any] = enum_type.coerce_output_value
    wrapped = getattr(enum_type, "wrapped_cls", None)
    if wrapped is None:
        return general
    names: dict[Any, str] = {}
    try:
        for name, value in enum_type.values.items():
            names.setdefault(value.value, name)
    except TypeError:  # an unhashable value
        return general
    value_of = operator.attrgetter("value")

    def coerce(output_value: Any) -> Any:
        if isinstance(output_value, wrapped):
            try:
                name = names.get(value_of(output_value))
            except TypeError:
                name = None
            if name is not None:
                return name
        return general(output_value)

    return coerce


# ----------------------------------------------------------------------------- plain fields


class PlainField:
    """How to serve one attribute-read leaf field (see the module docstring)."""

    __slots__ = ("coerce", "getter", "leaf", "non_null", "resolve")

    def __init__(
        self,
        resolve: Callable[..., Any],
        getter: Callable[[Any], Any],
        leaf: GraphQLLeafType,
        non_null: bool,
    ) -> None:
        self.resolve = resolve  # the resolver this was made for: served only while unchanged
        self.getter = getter
        self.leaf = leaf
        self.non_null = non_null
        self.coerce: Callable[[Any], Any] = (
            enum_output(leaf) if isinstance(leaf, GraphQLEnumType) else leaf.coerce_output_value
        )


class AttributeField:
    """How to serve one attribute-read field of an object or list type: the attribute read
    directly instead of through Strawberry's resolver wrapper, then graphql-core's completion."""

    __slots__ = ("field", "getter", "resolve")

    def __init__(
        self, resolve: Callable[..., Any], getter: Callable[[Any], Any], field: GraphQLField
    ) -> None:
        self.resolve = resolve  # the resolver this was made for: served only while unchanged
        self.getter = getter
        self.field = field


Served = PlainField | AttributeField


def _getter(default_resolver: Callable[[Any, str], Any], name: str) -> Callable[[Any], Any]:
    if default_resolver is getattr and "." not in name:
        return operator.attrgetter(name)
    return lambda source: default_resolver(source, name)


def _leaf_of(type_: GraphQLOutputType) -> tuple[GraphQLLeafType, bool] | None:
    non_null = isinstance(type_, GraphQLNonNull)
    named = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(named, GraphQLLeafType):
        return named, non_null
    return None


def plain_fields(schema: Schema) -> dict[int, tuple[GraphQLField, Served]]:
    """Every field of the built schema whose resolver is Strawberry's attribute read (leaf or
    not), keyed by the id of its `GraphQLField` (kept alive beside it)."""
    found: dict[int, tuple[GraphQLField, Served]] = {}
    name_converter = schema.config.name_converter
    default_resolver = schema.config.default_resolver
    for gql_type in schema._schema.type_map.values():
        if not isinstance(gql_type, GraphQLObjectType):
            continue
        definition = (gql_type.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
        if not isinstance(definition, StrawberryObjectDefinition):
            continue
        for field in definition.fields:
            gql_field = gql_type.fields.get(name_converter.get_graphql_name(field))
            if gql_field is None or gql_field.resolve is None:
                continue
            if not field.is_basic_field or gql_field.resolve.__name__ != _BASIC_RESOLVER_NAME:
                continue
            getter = _getter(default_resolver, field.python_name)
            leaf = _leaf_of(gql_field.type)
            served: Served = (
                PlainField(gql_field.resolve, getter, *leaf)
                if leaf is not None
                else AttributeField(gql_field.resolve, getter, gql_field)
            )
            found[id(gql_field)] = (gql_field, served)
    return found


class SubgraphExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor serving attribute-read leaf fields in one step (module docstring).
    `install_executor` makes one subclass per schema, with that schema's `plain` table."""

    plain: Mapping[int, tuple[GraphQLField, Served]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.is_awaitable = is_awaitable  # type: ignore[assignment]
        manager = self.middleware_manager
        # The plan of each field group (by its identity, which collect_subfields memoises:
        # the 20 rows of a page share their groups), the group kept alive beside it.
        self._plans: dict[int, tuple[FieldDetailsList, Served | None]] = {}
        self._group_plans: dict[
            int,
            tuple[GroupedFieldSet, list[tuple[str, FieldDetailsList, Served | None]] | None],
        ] = {}
        self._fast = manager is None or not manager.middlewares

    def _served(
        self, parent_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> Served | None:
        """How a field group is served plainly (None: graphql-core's path), planned once."""
        planned = self._plans.get(id(field_details_list))
        return planned[1] if planned is not None else self._plan(parent_type, field_details_list)

    def _plan(
        self, parent_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> Served | None:
        field_def = self.schema.get_field(parent_type, field_details_list[0].node.name.value)
        entry = self.plain.get(id(field_def)) if field_def is not None else None
        plain = None
        if entry is not None and entry[0] is field_def and field_def.resolve is entry[1].resolve:
            plain = entry[1]
        self._plans[id(field_details_list)] = (field_details_list, plain)
        return plain

    def _group_plan(
        self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet
    ) -> list[tuple[str, FieldDetailsList, Served | None]] | None:
        """The plan of a whole selection set (memoised by its identity like the field groups),
        None when none of its fields is served plainly."""
        entry = self._group_plans.get(id(grouped_field_set))
        if entry is not None:
            return entry[1]
        plan: list[tuple[str, FieldDetailsList, Served | None]] | None = []
        for response_name, field_details_list in grouped_field_set.items():
            plain = self._served(parent_type, field_details_list)
            plan.append((response_name, field_details_list, plain))  # type: ignore[union-attr]
        if not any(plain is not None for _, _, plain in plan or ()):
            plan = None
        self._group_plans[id(grouped_field_set)] = (grouped_field_set, plan)
        return plan

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        """graphql-core's `execute_fields` (same results, same handling of awaitables and
        errors), with plain fields served inline: no `Path` unless an error needs one."""
        plan = self._group_plan(parent_type, grouped_field_set) if self._fast else None
        if plan is None:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        is_awaitable_ = self.is_awaitable
        awaitable_fields: list[str] = []
        general = super().execute_field
        try:
            for response_name, field_details_list, plain in plan:
                if isinstance(plain, PlainField):
                    result = self._serve_plain(
                        plain,
                        parent_type,
                        source_value,
                        field_details_list,
                        path,
                        response_name,
                        position_context,
                    )
                elif plain is not None:
                    result = self._serve_attribute(
                        plain,
                        parent_type,
                        source_value,
                        field_details_list,
                        Path(path, response_name, parent_type.name),
                        position_context,
                    )
                else:
                    result = general(
                        parent_type,
                        source_value,
                        field_details_list,
                        Path(path, response_name, parent_type.name),
                        position_context,
                    )
                    if result is Undefined:
                        continue
                results[response_name] = result
                if is_awaitable_(result):
                    awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:
                field = awaitable_fields[0]
                results[field] = await results[field]
            else:
                awaited = await gather_with_cancel(*(results[f] for f in awaitable_fields))
                results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        plain = self._served(parent_type, field_details_list) if self._fast else None
        if plain is None:
            return super().execute_field(
                parent_type, source, field_details_list, path, position_context
            )
        if isinstance(plain, AttributeField):
            return self._serve_attribute(
                plain, parent_type, source, field_details_list, path, position_context
            )
        return self._serve_plain(
            plain, parent_type, source, field_details_list, path.prev, path.key, position_context
        )

    def _serve_attribute(
        self,
        attribute: AttributeField,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        """graphql-core's `execute_field` with the attribute read in place of the resolver."""
        field_def = attribute.field
        return_type = field_def.type
        info = self.build_resolve_info(field_def, to_nodes(field_details_list), parent_type, path)
        try:
            result = attribute.getter(source)
            if self.is_awaitable(result):
                return self.complete_awaitable_value(
                    return_type, field_details_list, info, path, result, position_context
                )
            completed = self.complete_value(
                return_type, field_details_list, info, path, result, position_context
            )
            if self.is_awaitable(completed):
                return self._await_completed(completed, return_type, field_details_list, path)
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None
        return completed

    async def _await_completed(
        self,
        completed: Awaitable[Any],
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        path: Path,
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None

    def _serve_plain(
        self,
        plain: PlainField,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        parent_path: Path | None,
        response_name: str | int,
        position_context: Any,
    ) -> Any:
        try:
            result = plain.getter(source)
            if result is None or result is Undefined:
                if plain.non_null:
                    field_name = field_details_list[0].node.name.value
                    raise TypeError(
                        f"Cannot return null for non-nullable field {parent_type}.{field_name}."
                    )
                return None
            if isinstance(result, Exception):
                raise result
            if type(result) not in _not_awaitable and self.is_awaitable(result):
                return self._complete_awaitable(
                    parent_type,
                    field_details_list,
                    Path(parent_path, response_name, parent_type.name),
                    result,
                    position_context,
                )
            coerced = plain.coerce(result)
            if coerced is Undefined or coerced is None:
                raise TypeError(
                    f"Expected `{inspect(plain.leaf)}.coerce_output_value("
                    f"{inspect(result)})` to return non-nullable value, returned:"
                    f" {inspect(coerced)}"
                )
        except Exception as raw_error:
            field_def = self.schema.get_field(parent_type, field_details_list[0].node.name.value)
            assert field_def is not None
            self.handle_field_error(
                raw_error,
                field_def.type,
                field_details_list,
                Path(parent_path, response_name, parent_type.name),
            )
            return None
        return coerced

    def _complete_awaitable(
        self,
        parent_type: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        path: Path,
        result: Awaitable[Any],
        position_context: Any,
    ) -> Any:
        """An attribute holding an awaitable: completed as graphql-core completes any."""
        field_def = self.schema.get_field(parent_type, field_details_list[0].node.name.value)
        assert field_def is not None
        info = self.build_resolve_info(field_def, to_nodes(field_details_list), parent_type, path)
        return self.complete_awaitable_value(
            field_def.type, field_details_list, info, path, result, position_context
        )


def install_executor(schema: Schema) -> type[SubgraphExecutor]:
    """Make `schema` execute with a `SubgraphExecutor` knowing its plain fields. Call it once
    the schema's resolvers are final (after `shared.authz.install_access_rules`): a resolver
    wrapped later is not served by the fast path anyway (its identity is checked per field)."""
    executor = type("SubgraphExecutor", (SubgraphExecutor,), {"plain": plain_fields(schema)})
    schema.execution_context_class = executor
    return executor
