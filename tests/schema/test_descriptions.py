"""Every element a front-end engineer sees in the composed supergraph has a description.

The test reads the committed `schema/supergraph.graphql` (what GraphiQL, codegen and the MFE
teams see; `make schema-check` proves it matches the code) with graphql-core and names every
type, field, argument, input field and enum value without a description, so one run lists them all.

Skipped, because we do not write them and cannot describe them:
- the federation machinery the composer adds: types and directives named `join__*`, `link__*`,
  `policy__*`, `requiresScopes__*`, and the `@link`, `@policy`, `@requiresScopes`,
  `@authenticated` directives (defined by the Federation specs, not by a subgraph);
- GraphQL's built-in scalars (`String`, `Int`, `Float`, `Boolean`, `ID`), introspection types
  (`__Schema`, ...) and specified directives (`@include`, `@skip`, `@deprecated`, ...).
Directives are not checked at all: the only non-built-in ones are the federation ones above.
"""

from __future__ import annotations

from pathlib import Path

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
)
from graphql.type import introspection_types, specified_scalar_types

SUPERGRAPH = Path(__file__).resolve().parents[2] / "schema" / "supergraph.graphql"
FEDERATION_PREFIXES = ("join__", "link__", "policy__", "requiresScopes__")


def _ours(named: GraphQLNamedType) -> bool:
    name = named.name
    return not (
        name in specified_scalar_types
        or name in introspection_types
        or name.startswith(FEDERATION_PREFIXES)
    )


def undescribed(schema: GraphQLSchema) -> list[str]:
    """Coordinates (`Type`, `Type.field`, `Type.field(arg)`, `Enum.VALUE`) without a description."""
    missing: list[str] = []
    for name, named in sorted(schema.type_map.items()):
        if not _ours(named):
            continue
        if not (named.description or "").strip():
            missing.append(name)
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in named.fields.items():
                if not (field.description or "").strip():
                    missing.append(f"{name}.{field_name}")
                missing.extend(
                    f"{name}.{field_name}({arg_name})"
                    for arg_name, arg in field.args.items()
                    if not (arg.description or "").strip()
                )
        elif isinstance(named, GraphQLInputObjectType):
            missing.extend(
                f"{name}.{field_name}"
                for field_name, field in named.fields.items()
                if not (field.description or "").strip()
            )
        elif isinstance(named, GraphQLEnumType):
            missing.extend(
                f"{name}.{value_name}"
                for value_name, value in named.values.items()
                if not (value.description or "").strip()
            )
    return missing


def test_every_element_of_the_supergraph_has_a_description() -> None:
    schema = build_schema(SUPERGRAPH.read_text())
    missing = undescribed(schema)
    assert not missing, f"{len(missing)} elements without a description:\n" + "\n".join(missing)


def test_the_check_names_each_kind_of_undescribed_element() -> None:
    schema = build_schema(
        '''
        """Described."""
        type Query {
          """Described."""
          ok(
            """Described."""
            a: Int
          ): Thing
          bare(b: Int): Int
        }
        type Thing { x: Int }
        input In { y: Int }
        enum E { V }
        scalar join__FieldSet
        '''
    )
    assert undescribed(schema) == [
        "E",
        "E.V",
        "In",
        "In.y",
        "Query.bare",
        "Query.bare(b)",
        "Thing",
        "Thing.x",
    ]
