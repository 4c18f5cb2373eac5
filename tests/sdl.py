"""The printed SDL without descriptions, for tests that look for a field's signature and
directives (`logout(refreshToken: String!): Boolean! @authenticated`): descriptions on arguments
make the printer spread a signature over several lines."""

from __future__ import annotations

from typing import Any

from graphql import parse, print_ast
from graphql.language import Visitor, visit


class _DropDescriptions(Visitor):
    def enter(self, node: Any, *_args: Any) -> None:
        if getattr(node, "description", None) is not None:
            # graphql-core 3.3's nodes are frozen; this document is our own parse.
            object.__setattr__(node, "description", None)


def without_descriptions(sdl: str) -> str:
    document = parse(sdl)
    visit(document, _DropDescriptions())
    return print_ast(document)
