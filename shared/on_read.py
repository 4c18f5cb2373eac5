"""Fields made on first read, for objects a hot path builds without their dataclass `__init__`
(`object.__new__` and an instance dict holding only what cannot wait): a page's `Payment`s,
`Edge`s and `PageInfo` (docs/performance.md, step 35).

`made_on_read(source, makers)` is such a class's `__getattr__`: a field named in `makers` and
not yet in the instance is made from the instance's `source` entry, kept in the instance, and
returned; every later read finds it there. Anything else, or an instance without `source` (one
built the ordinary way, whose fields are all set), is an `AttributeError` as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Maker = Callable[[Any, Any], Any]
"""Makes a field from the instance and its `source` entry."""


def made_on_read(source: str, makers: Mapping[str, Maker]) -> Callable[[Any, str], Any]:
    """A `__getattr__` making the fields of `makers` on first read (module docstring)."""

    def __getattr__(self: Any, name: str) -> Any:
        state = self.__dict__
        make = makers.get(name)
        origin = state.get(source)
        if make is None or origin is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        value = state[name] = make(self, origin)
        return value

    return __getattr__
