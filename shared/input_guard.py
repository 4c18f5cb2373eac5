"""What no subgraph accepts from a client, whatever the field: checked once, before execution.

Every string, number and nesting level a client sends (the operation's variables and the
literals in its document) is checked here, for all four subgraphs at once:

- strings with control characters other than tab, line feed and carriage return (NUL first:
  PostgreSQL refuses it in text, which used to surface as a masked 500), or with lone UTF-16
  surrogates (which no encoder accepts);
- integers beyond 64 bits and non-finite floats (`NaN`, `Infinity`: Python's `json` accepts them);
- objects and lists nested deeper than `MAX_DEPTH` (a 1,000-level JSON variable used to reach a
  `RecursionError`).

Each refusal is `BAD_USER_INPUT` with `extensions.field` naming the input field: the path inside
the variable or argument (`name` for `{input: {name: ...}}`, `details.0.note`), the variable or
argument itself when the value is a plain one or when it nests too deep. The walks are
iterative, so no input can exhaust the stack, and the document's literals are checked once per
distinct query text.
`decode_json` parses request bodies so that nesting beyond Python's recursion limit is still read
(and then refused here) rather than raising `RecursionError` in the HTTP view.
"""

from __future__ import annotations

import json
import math
import re
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any, Final

import orjson
from graphql import (
    ArgumentNode,
    DocumentNode,
    FloatValueNode,
    IntValueNode,
    ListValueNode,
    Node,
    ObjectFieldNode,
    ObjectValueNode,
    StringValueNode,
)

from shared.errors import BadUserInput

MAX_DEPTH: Final = 32
"""Deepest nesting of objects and lists accepted inside one variable or argument."""

INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1

# C0 controls except \t \n \r, DEL, C1 controls, and lone surrogates.
_FORBIDDEN_CHARS: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

_LITERAL_CACHE_SIZE: Final = 1024


def decode_json(data: str | bytes) -> object:
    """A request body as JSON. The standard parser keeps integers exact (so oversized ones can
    be refused by name); a body nested past its recursion limit is read by orjson (depth limit
    1,024, beyond which it is a JSON error: HTTP 400) so the depth is refused as BAD_USER_INPUT."""
    try:
        return json.loads(data)
    except RecursionError:
        return orjson.loads(data)


def _problem(value: object) -> str | None:
    """Why a scalar value is refused, or None."""
    if isinstance(value, str):
        if _FORBIDDEN_CHARS.search(value):
            return "Text must not contain control characters"
    elif isinstance(value, bool):
        return None
    elif isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            return "Integers must fit in 64 bits"
    elif isinstance(value, float) and not math.isfinite(value):
        return "Numbers must be finite"
    return None


def _field(path: tuple[str, ...]) -> str | None:
    """The name a client knows: the path inside the variable (or argument), else its name."""
    if not path:
        return None
    return ".".join(path[1:]) if len(path) > 1 else path[0]


def check_variables(variables: Mapping[str, Any] | None) -> None:
    """Refuse the first unacceptable value among an operation's variables (BAD_USER_INPUT)."""
    if not variables:
        return
    stack: list[tuple[object, tuple[str, ...], int]] = [
        (value, (name,), 0) for name, value in variables.items()
    ]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth >= MAX_DEPTH:
                raise BadUserInput(
                    f"Input is nested more than {MAX_DEPTH} levels deep", field=path[0]
                )
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                stack.append((item, (*path, str(key)), depth + 1))
            continue
        problem = _problem(value)
        if problem is not None:
            raise BadUserInput(problem, field=_field(path))


def _literal_values(document: DocumentNode) -> Iterator[tuple[Node, tuple[str, ...], int]]:
    """Every node of the document with the argument/input-field path and value depth above it."""
    stack: list[tuple[Node, tuple[str, ...], int]] = [(document, (), 0)]
    while stack:
        node, path, depth = stack.pop()
        yield node, path, depth
        if isinstance(node, ArgumentNode):
            path, depth = (node.name.value,), 0
        elif isinstance(node, ObjectFieldNode):
            path = (*path, node.name.value)
        elif isinstance(node, ObjectValueNode | ListValueNode):
            depth += 1
        for key in node.keys:
            child = getattr(node, key, None)
            if isinstance(child, Node):
                stack.append((child, path, depth))
            elif isinstance(child, tuple | list):
                stack.extend((c, path, depth) for c in child if isinstance(c, Node))


def _literal_problem(document: DocumentNode) -> tuple[str, str | None] | None:
    for node, path, depth in _literal_values(document):
        if isinstance(node, ObjectValueNode | ListValueNode) and depth >= MAX_DEPTH:
            return f"Input is nested more than {MAX_DEPTH} levels deep", path[0] if path else None
        value: object
        if isinstance(node, StringValueNode):
            value = node.value
        elif isinstance(node, IntValueNode):
            value = int(node.value)
        elif isinstance(node, FloatValueNode):
            value = float(node.value)
        else:
            continue
        problem = _problem(value)
        if problem is not None:
            return problem, _field(path)
    return None


_literal_cache: OrderedDict[str, tuple[str, str | None] | None] = OrderedDict()


def check_literals(document: DocumentNode | None, query: str | None) -> None:
    """Refuse unacceptable literals in the document (cached per distinct query text)."""
    if document is None:
        return
    if query is None:
        found = _literal_problem(document)
    elif query in _literal_cache:
        _literal_cache.move_to_end(query)
        found = _literal_cache[query]
    else:
        found = _literal_problem(document)
        _literal_cache[query] = found
        if len(_literal_cache) > _LITERAL_CACHE_SIZE:
            _literal_cache.popitem(last=False)
    if found is not None:
        message, field = found
        raise BadUserInput(message, field=field)
