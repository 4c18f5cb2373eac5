"""Fields made on first read, for objects a hot path builds without their dataclass `__init__`
(`object.__new__` and an instance dict holding only what cannot wait): a page's `Payment`s,
`Edge`s and `PageInfo` (docs/performance.md, step 35).

`made_on_read(cls, source, makers)` puts one `OnRead` descriptor on `cls` per field named in
`makers`: a field not yet in the instance is made from the instance's `source` entry, kept in
the instance, and returned; every later read finds it in the instance dict, which a non-data
descriptor never shadows (the descriptor is not even consulted). An instance without `source`
(one built the ordinary way, whose fields are all set) reading a field it lacks is an
`AttributeError` as usual.

A descriptor rather than a class `__getattr__`: `__getattr__` runs only after the ordinary
lookup has failed, and that failure formats and raises an `AttributeError` (about 3,000
instructions) before the field is made, on every first read of every such field of a page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Maker = Callable[[Any, Any], Any]
"""Makes a field from the instance and its `source` entry."""


class OnRead:
    """A non-data descriptor making one field on first read (module docstring)."""

    __slots__ = ("maker", "name", "source")

    def __init__(self, name: str, source: str, maker: Maker) -> None:
        self.name = name
        self.source = source
        self.maker = maker

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        state = instance.__dict__
        origin = state.get(self.source)
        if origin is None:
            raise AttributeError(
                f"{type(instance).__name__!r} object has no attribute {self.name!r}"
            )
        value = state[self.name] = self.maker(instance, origin)
        return value


def made_on_read(cls: type, source: str, makers: Mapping[str, Maker]) -> None:
    """Make the fields of `makers` on first read on instances of `cls` (module docstring).
    A field must have no class attribute of its own (a default value, a property)."""
    for name, maker in makers.items():
        if name in cls.__dict__:
            raise TypeError(f"{cls.__name__}.{name} has a class attribute: not made on read")
        setattr(cls, name, OnRead(name, source, maker))
