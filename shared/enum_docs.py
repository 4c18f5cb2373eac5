"""GraphQL enums whose values carry descriptions.

`strawberry.enum_value(..., description=...)` cannot be used on a `StrEnum` (its constructor
refuses a value that is not a `str`), and the payments vocabularies are StrEnums used as domain
values too. `described_enum` applies `strawberry.enum` and then sets each value's description from
a mapping that must name every member exactly: a new member without a description (or a stale
entry) fails at import, long before the schema description test runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from enum import EnumMeta
from typing import TypeVar

import strawberry
from strawberry.types.enum import StrawberryEnumDefinition

E = TypeVar("E", bound=EnumMeta)

ROLE_DESCRIPTION = "What an account may do; carried in the access token's `role` claim."
ROLE_VALUES: Mapping[str, str] = {
    "ADMIN": "Operates the platform: every operation, every user's data, system configuration.",
    "VENDOR": "A merchant: requests payments from customers (INITIATE), receives and refunds "
    "them, reads its own reports.",
    "CUSTOMER": "Pays: creates PAYMENT payments and pays (its own and vendors' requests) through "
    "Razorpay Checkout.",
}


def described_enum(
    *, description: str, values: Mapping[str, str], name: str | None = None
) -> Callable[[E], E]:
    """`@strawberry.enum(name=..., description=...)` plus one description per member."""

    def wrap(cls: E) -> E:
        members = set(cls.__members__)
        if members != set(values):
            raise ValueError(
                f"{cls.__name__}: describe exactly its members; missing "
                f"{sorted(members - set(values))}, unknown {sorted(set(values) - members)}"
            )
        strawberry.enum(cls, name=name, description=description)
        definition: StrawberryEnumDefinition = cls.__strawberry_definition__  # type: ignore[attr-defined]
        definition.values = [
            dataclasses.replace(value, description=values[value.name])
            for value in definition.values
        ]
        return cls

    return wrap
