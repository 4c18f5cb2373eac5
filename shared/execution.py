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

Pure subtrees. A list or object value whose whole selection is "pure" is completed in one tight
loop instead of graphql-core's per-item, per-field path (`complete_list_value` ->
`complete_list_item_value` -> `complete_value` -> `complete_object_value` -> `execute_fields`).
A selection is pure when every field collected in it (after fragments and @skip/@include) is:

- `__typename`, answered with the object type's name (what its resolver returns);
- a plain leaf as above;
- an attribute-read object or list field as above whose type, under its non-null and list
  wrappers, is a leaf or an object type with no `is_type_of` (no interface, no union: nothing
  abstract) whose own selection is pure;

and no field node carries a directive other than @skip/@include (no @stream), the collection of
each selection introduces no deferred fragment, no resolver middleware runs, and graphql-core
passes no incremental-delivery position (`position_context is None`). A plan (a tuple per
selection: response name, kind, attribute getter, non-null, coercion or sub-plan) is made once
per (type, field group) per request, like the plans above, failed plans included.

Plans across requests. graphql-core collects new field groups on every execution, so the plans
above, keyed by a group's identity, would be made again by every request. A pure-subtree plan
holds no field group (only names, getters, coercions and sub-plans): it depends only on the
schema, the type and the field nodes of the group, as long as collecting the selections below
those nodes does not depend on the request. So the parsed documents of `shared.schema`'s
cache (`Prepared`) are registered (`register_document`) and each has a `DocumentPlans`, which
dies with the document (a weak reference to it drops the entry): its executions share the
plans of a (type, field nodes) there. Only when that selection cannot vary between requests:
every node of the group comes with no deferred fragment and no fragment variables, and below
it (fields, inline fragments, fragment spreads, at every depth) no directive other than
`@skip`/`@include` with literal arguments, no spread with arguments and no fragment declaring
variables. Anything else (an `@include(if: $v)`, a `@defer`, ...) is planned per request as
before. Which nodes form a group can still depend on conditions above it (n copies of a field
under `@include(if: $vK)` make up to 2^n - 1 groups), so a document keeps at most
`PLANS_PER_FIELD_NODE` shared plans per field node it has; past that, plans are made per
request. Each subscription event's executor keeps per-request caches of its own and shares its
document's plans.

The loop reads each attribute as Strawberry's default resolver does, builds the same dicts in
the same key order (the collected fields' order) and coerces leaves with the same functions.
It has no side effects of its own (no error recorded, no path made), so on anything it does not
handle plainly it gives up the whole value and graphql-core's general path completes it again
from the start (attribute reads and coercions have no side effects, so a second read is
safe): an `Exception` value, a null in a non-null position, a coercion that raises or returns
null, an awaitable, a list that is not a `list` or `tuple`, a failing attribute read, anything
raising. Errors, their messages, their paths and null propagation are therefore graphql-core's
own. The general path's own `complete_list_value` and `complete_object_value` then try the
pure loop again on each item and nested object, so only the subtree holding the unusual value
ends up on the general path.
"""

from __future__ import annotations

import operator
import weakref
from collections.abc import Awaitable, Callable, Mapping
from types import CoroutineType, GeneratorType
from typing import TYPE_CHECKING, Any, Final, cast

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    InlineFragmentNode,
    SelectionSetNode,
    Undefined,
    VariableNode,
)
from graphql.execution.executor import Executor, to_nodes
from graphql.pyutils import Path, gather_with_cancel, inspect
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.base import StrawberryObjectDefinition

if TYPE_CHECKING:
    from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
    from graphql.type import GraphQLResolveInfo
    from strawberry import Schema

__all__ = [
    "DocumentPlans",
    "SubgraphExecutor",
    "enum_output",
    "install_executor",
    "is_awaitable",
    "leaf_coercers",
    "plain_fields",
]

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


# ----------------------------------------------------------------------------- pure subtrees

# What a selection's plan says of each value (module docstring, "Pure subtrees").
_LEAF: Final = 0  # coerced by the leaf type's function
_OBJECT: Final = 1  # completed by its own selection's plan
_LIST: Final = 2  # each item completed by the item plan
_TYPENAME: Final = 3  # the object type's name

# A value's plan: (kind, non_null, coercion | field plans | item plan).
ValuePlan = tuple[int, bool, Any]
# A selection's plan: per response name (name, kind, getter, non_null, coercion | plans | name).
FieldPlan = tuple[str, int, "Callable[[Any], Any] | None", bool, Any]
FieldPlans = tuple[FieldPlan, ...]

_EXECUTABLE_DIRECTIVES: Final = frozenset({"skip", "include"})  # resolved by collect_fields


class _GeneralPath(Exception):  # a signal, not an error
    """Raised inside the pure loop: the value goes to graphql-core's general path. Raised as
    the class, so each raise is a new instance: one instance raised again and again would
    gather every raise's frames in its `__traceback__`, and with them each request's objects,
    for the life of the process."""


# Types whose values are completed plainly: not awaitable (decided by the type, as
# `_not_awaitable`) and not exceptions. None, Undefined and everything else are checked in full.
_settled: set[type] = {bool, int, float, str, bytes, list, tuple, dict}


def _settle(value: Any) -> bool:
    """Whether a value (not None) is neither an exception nor awaitable, as graphql-core tests
    it; its type remembered when that answer holds for every value of the type."""
    if isinstance(value, BaseException) or is_awaitable(value):
        return False
    cls = type(value)
    if cls in _not_awaitable and len(_settled) < _MAX_KNOWN_TYPES:
        _settled.add(cls)
    return True


def _complete(kind: int, non_null: bool, arg: Any, value: Any) -> Any:
    """One value completed by its plan, or `_GeneralPath` raised."""
    if value is None or value is Undefined:
        if non_null:
            raise _GeneralPath
        return None
    cls = type(value)
    if cls not in _settled and not _settle(value):
        raise _GeneralPath
    if kind == _LEAF:
        coerced = arg(value)
        if coerced is None or coerced is Undefined:
            raise _GeneralPath
        return coerced
    if kind == _OBJECT:
        return _complete_object(arg, value)
    return _complete_list(arg, value)


def _complete_list(item: ValuePlan, values: Any) -> list[Any]:
    """A list's items completed by the item plan (a value of any other type than `list` or
    `tuple` is left to the general path: iterables, async iterables, strings, mappings)."""
    cls = type(values)
    if cls is not list and cls is not tuple:
        raise _GeneralPath
    kind, non_null, arg = item
    if kind == _OBJECT:
        settled = _settled
        return [
            _complete_object(arg, value)
            if type(value) in settled
            else _complete(kind, non_null, arg, value)
            for value in values
        ]
    return [_complete(kind, non_null, arg, value) for value in values]


def _complete_object(fields: FieldPlans, source: Any) -> dict[str, Any]:
    """An object's selection completed by its plan: the same dict, in the same key order, as
    graphql-core's `execute_fields`."""
    results: dict[str, Any] = {}
    settled = _settled
    for response_name, kind, getter, non_null, arg in fields:
        if kind == _TYPENAME:
            results[response_name] = arg
            continue
        value = getter(source)  # type: ignore[misc]
        if kind == _LEAF and type(value) in settled:
            coerced = arg(value)
            if coerced is None or coerced is Undefined:
                raise _GeneralPath
            results[response_name] = coerced
        else:
            results[response_name] = _complete(kind, non_null, arg, value)
    return results


def leaf_coercers(schema: Schema) -> dict[int, tuple[GraphQLLeafType, Callable[[Any], Any]]]:
    """The output coercion of every leaf type of the built schema (enums by `enum_output`),
    keyed by the id of the type (kept alive beside it)."""
    return {
        id(gql_type): (
            gql_type,
            enum_output(gql_type)
            if isinstance(gql_type, GraphQLEnumType)
            else gql_type.coerce_output_value,
        )
        for gql_type in schema._schema.type_map.values()
        if isinstance(gql_type, GraphQLLeafType)
    }


def _only_executable_directives(field_details_list: FieldDetailsList) -> bool:
    """No field node of the group carries a directive other than @skip/@include (which
    `collect_fields` has applied): nothing like @stream, which completes a list differently."""
    return all(
        directive.name.value in _EXECUTABLE_DIRECTIVES
        for details in field_details_list
        for directive in details.node.directives or ()
    )


_MISSING: Final = object()


def _literal_conditions(directives: Any) -> bool:
    """Only `@skip`/`@include`, each with literal arguments: what they decide is the same for
    every request."""
    for directive in directives or ():
        if directive.name.value not in _EXECUTABLE_DIRECTIVES:
            return False
        for argument in directive.arguments or ():
            if isinstance(argument.value, VariableNode):
                return False
    return True


PLANS_PER_FIELD_NODE: Final = 4
"""Shared plans a cached document may hold per field node it has (`DocumentPlans.limit`): a
group makes a value plan and an object plan per runtime type; twice that leaves room."""


def _field_nodes(document: DocumentNode) -> int:
    """How many field nodes the document has (operations and fragments)."""
    count = 0
    pending = [d.selection_set for d in document.definitions if hasattr(d, "selection_set")]
    while pending:
        selection_set = pending.pop()
        if selection_set is None:
            continue
        for selection in selection_set.selections:
            count += isinstance(selection, FieldNode)
            pending.append(getattr(selection, "selection_set", None))
    return count


class DocumentPlans:
    """The pure-subtree plans one parsed document's executions share (module docstring,
    "Plans across requests"), keyed by type and the identities of the group's field nodes
    (alive as long as the document, which this dies with)."""

    __slots__ = ("fragments", "limit", "objects", "static", "values")

    def __init__(self, document: DocumentNode) -> None:
        # The fragment definitions themselves, not the document: this must not keep it alive.
        self.fragments: dict[str, FragmentDefinitionNode] = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        # Which nodes make up a group may depend on conditions above it (n copies of a field
        # under `@include(if: $vK)`: up to 2^n - 1 groups of one document), so the shared
        # plans are bounded by the document's size; past it, plans are made per request.
        self.limit = PLANS_PER_FIELD_NODE * _field_nodes(document)
        # Whether a selection set's collection, at every depth, is the same for every request.
        self.static: dict[int, bool] = {}
        self.values: dict[tuple[int, ...], ValuePlan | None] = {}
        self.objects: dict[tuple[int, ...], FieldPlans | None] = {}

    def keep(self, table: dict[tuple[int, ...], Any], key: tuple[int, ...], plan: Any) -> Any:
        """`plan`, kept under `key` in `table` unless the document's bound is reached."""
        if len(self.values) + len(self.objects) < self.limit:
            table[key] = plan
        return plan

    def key(self, type_: Any, field_details_list: FieldDetailsList) -> tuple[int, ...] | None:
        """The shared key of (type, field group), None when its plan may vary by request."""
        key = [id(type_)]
        for details in field_details_list:
            if details.defer_usage is not None or details.fragment_variable_values is not None:
                return None
            node = details.node
            selection_set = node.selection_set
            if selection_set is not None and not self.is_static(selection_set):
                return None
            key.append(id(node))
        return tuple(key)

    def is_static(self, selection_set: SelectionSetNode) -> bool:
        known = self.static.get(id(selection_set))
        if known is not None:
            return known
        self.static[id(selection_set)] = False  # meanwhile: a cycle is not static
        static = self._static(selection_set)
        self.static[id(selection_set)] = static
        return static

    def _static(self, selection_set: SelectionSetNode) -> bool:
        for selection in selection_set.selections:
            if not _literal_conditions(selection.directives):
                return False
            if isinstance(selection, FieldNode):
                inner = selection.selection_set
                if inner is not None and not self.is_static(inner):
                    return False
            elif isinstance(selection, InlineFragmentNode):
                if not self.is_static(selection.selection_set):
                    return False
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if (
                    fragment is None
                    or getattr(selection, "arguments", None)
                    or fragment.variable_definitions
                    or not _literal_conditions(fragment.directives)
                    or not self.is_static(fragment.selection_set)
                ):
                    return False
            else:  # pragma: no cover - no other kind of selection exists
                return False
        return True


class SubgraphExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor serving attribute-read leaf fields in one step (module docstring).
    `install_executor` makes one subclass per schema, with that schema's `plain` table."""

    plain: Mapping[int, tuple[GraphQLField, Served]] = {}
    coercers: Mapping[int, tuple[GraphQLLeafType, Callable[[Any], Any]]] = {}
    # The plans of each registered document, by its id (entry dropped when it is collected).
    documents: dict[int, tuple[weakref.ref[DocumentNode], DocumentPlans]] = {}
    _document_plans: DocumentPlans | None = None

    @classmethod
    def register_document(cls, document: DocumentNode) -> None:
        """Share plans between the executions of `document` (module docstring), for as long
        as it lives. For documents kept by a cache, e.g. `shared.schema`'s `Prepared`."""
        key = id(document)
        documents = cls.documents
        entry = documents.get(key)
        if entry is not None and entry[0]() is document:
            return

        def forget(ref: weakref.ref[DocumentNode]) -> None:
            current = documents.get(key)
            if current is not None and current[0] is ref:
                del documents[key]

        documents[key] = (weakref.ref(document, forget), DocumentPlans(document))

    @classmethod
    def build(cls, schema: Any, document: DocumentNode, *args: Any, **kwargs: Any) -> Any:
        """graphql-core's `build`, and the document's shared plans found (if registered)."""
        executor = super().build(schema, document, *args, **kwargs)
        if isinstance(executor, SubgraphExecutor):
            entry = cls.documents.get(id(document))
            if entry is not None and entry[0]() is document:
                executor._document_plans = entry[1]
        return executor

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
        # The pure plan of each (type, field group) (None: not pure), both kept alive beside it.
        self._subtrees: dict[tuple[int, int], tuple[Any, FieldDetailsList, Any]] = {}

    def build_per_event_executor(self, payload: Any) -> Executor[Any]:
        """A subscription event's executor, with plan caches of its own. graphql-core makes it
        as a shallow copy of the subscription's executor, and each event collects its fields
        anew (new field groups, new identities): caches shared with the copies would keep
        every event's groups for as long as the subscription lives."""
        executor = super().build_per_event_executor(payload)
        if isinstance(executor, SubgraphExecutor):
            executor._plans = {}
            executor._group_plans = {}
            executor._subtrees = {}
        return executor

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

    # ------------------------------------------------------------------------- pure subtrees

    def complete_list_value(
        self,
        return_type: GraphQLList[GraphQLOutputType],
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        """A list of a pure selection in one loop (module docstring), else graphql-core's."""
        if position_context is None and self._fast:
            plan = self._value_plan(return_type, field_details_list)
            if plan is not None:
                try:
                    return _complete_list(plan[2], result)
                except Exception:  # noqa: S110 - the general path answers (docstring)
                    pass
        return super().complete_list_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def complete_object_value(
        self,
        return_type: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        """An object of a pure selection in one loop (module docstring), else graphql-core's."""
        if position_context is None and self._fast and return_type.is_type_of is None:
            fields = self._object_plan(return_type, field_details_list)
            if fields is not None:
                try:
                    return _complete_object(fields, result)
                except Exception:  # noqa: S110 - the general path answers (docstring)
                    pass
        return super().complete_object_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _value_plan(
        self, type_: GraphQLOutputType, field_details_list: FieldDetailsList
    ) -> ValuePlan | None:
        """The plan completing values of `type_` selected by the field group, None when its
        selection is not pure; made once per request and (type, group), or once per document
        and (type, field nodes) when that is shared (module docstring)."""
        key = (id(type_), id(field_details_list))
        return cast(
            "ValuePlan | None",
            self._planned(key, type_, field_details_list, "values", self._make_value_plan),
        )

    def _planned(
        self,
        key: tuple[int, int],
        type_: Any,
        field_details_list: FieldDetailsList,
        table: str,
        make: Callable[[Any, FieldDetailsList], Any],
    ) -> Any:
        """A plan from this request's cache, else the document's shared `table` ("values" or
        "objects") when the group may share it, else `make` (kept where it may be)."""
        cached = self._subtrees.get(key)
        if cached is not None:
            return cached[2]
        shared = self._document_plans
        shared_key = shared.key(type_, field_details_list) if shared is not None else None
        if shared_key is None:
            plan = make(type_, field_details_list)
        else:
            assert shared is not None
            plans = getattr(shared, table)
            plan = plans.get(shared_key, _MISSING)
            if plan is _MISSING:
                plan = shared.keep(plans, shared_key, make(type_, field_details_list))
        self._subtrees[key] = (type_, field_details_list, plan)
        return plan

    def _make_value_plan(
        self, type_: GraphQLOutputType, field_details_list: FieldDetailsList
    ) -> ValuePlan | None:
        plan: ValuePlan | None = None
        non_null = isinstance(type_, GraphQLNonNull)
        named = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        if isinstance(named, GraphQLList):
            item = self._value_plan(named.of_type, field_details_list)
            if item is not None and _only_executable_directives(field_details_list):
                plan = (_LIST, non_null, item)
        elif isinstance(named, GraphQLLeafType):
            coercer = self.coercers.get(id(named))
            if coercer is not None and coercer[0] is named:
                plan = (_LEAF, non_null, coercer[1])
        elif isinstance(named, GraphQLObjectType) and named.is_type_of is None:
            fields = self._object_plan(named, field_details_list)
            if fields is not None:
                plan = (_OBJECT, non_null, fields)
        return plan

    def _object_plan(
        self, object_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> FieldPlans | None:
        """The plan of an object type's selection (its collected subfields), None when a field
        of it is not pure (module docstring); made once per request and (type, group), or once
        per document and (type, field nodes) when that is shared."""
        key = (id(object_type), -id(field_details_list) - 1)  # apart from the value plans
        return cast(
            "FieldPlans | None",
            self._planned(key, object_type, field_details_list, "objects", self._make_object_plan),
        )

    def _make_object_plan(
        self, object_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> FieldPlans | None:
        try:
            grouped_field_set, new_defer_usages, _ = self.collect_subfields(
                object_type, field_details_list
            )
        except Exception:  # the general path raises it where it belongs
            return None
        if new_defer_usages:
            return None
        fields: list[FieldPlan] = []
        for response_name, group in grouped_field_set.items():
            if not _only_executable_directives(group):
                return None
            if group[0].node.name.value == "__typename":
                fields.append((response_name, _TYPENAME, None, True, object_type.name))
                continue
            served = self._served(object_type, group)
            if isinstance(served, PlainField):
                fields.append((response_name, _LEAF, served.getter, served.non_null, served.coerce))
                continue
            if served is None:
                return None
            plan = self._value_plan(served.field.type, group)
            if plan is None:
                return None
            fields.append((response_name, plan[0], served.getter, plan[1], plan[2]))
        return tuple(fields)

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
    executor = type(
        "SubgraphExecutor",
        (SubgraphExecutor,),
        {"plain": plain_fields(schema), "coercers": leaf_coercers(schema), "documents": {}},
    )
    schema.execution_context_class = executor
    return executor
