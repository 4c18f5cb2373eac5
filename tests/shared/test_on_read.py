"""`shared.on_read`: fields made on first read, once, kept in the instance."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from shared.on_read import OnRead, made_on_read


@dataclass
class Thing:
    label: str
    size: int


calls: list[int] = []


def _label(thing: Thing, source: int) -> str:
    calls.append(source)
    return f"#{source}"


made_on_read(Thing, "_source", {"label": _label})


def test_a_field_is_made_once_on_first_read_and_kept() -> None:
    calls.clear()
    thing = object.__new__(Thing)
    thing.__dict__ = {"size": 3, "_source": 7}
    assert "label" not in thing.__dict__
    assert thing.label == "#7"
    assert thing.label == "#7"
    assert calls == [7]
    assert thing.__dict__["label"] == "#7"


def test_an_instance_built_the_ordinary_way_reads_its_own_fields() -> None:
    calls.clear()
    thing = Thing(label="plain", size=1)
    assert thing.label == "plain"
    assert calls == []


def test_a_missing_field_without_source_is_an_attribute_error() -> None:
    thing = object.__new__(Thing)
    thing.__dict__ = {"size": 3}
    with pytest.raises(AttributeError, match="'Thing' object has no attribute 'label'"):
        _ = thing.label
    assert not hasattr(thing, "label")
    assert getattr(thing, "label", None) is None
    with pytest.raises(AttributeError):
        _ = thing.other  # type: ignore[attr-defined]


def test_the_class_attribute_is_the_descriptor() -> None:
    assert isinstance(Thing.__dict__["label"], OnRead)


def test_a_field_with_a_class_attribute_is_refused() -> None:
    @dataclass
    class WithDefault:
        size: int = 1

    with pytest.raises(TypeError, match="class attribute"):
        made_on_read(WithDefault, "_source", {"size": lambda thing, source: source})
