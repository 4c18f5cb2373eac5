"""Admin mutations (ADMIN only, declared per field): system configuration. (User administration
is auth's: `subgraphs/auth/mutations.py`.)"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from shared.scalars import JSON
from subgraphs.admin import system_config
from subgraphs.admin.context import Context
from subgraphs.admin.types import ADMIN, ConfigEntry


async def resolve_set_system_config(
    info: Info[Context, None],
    key: Annotated[
        str,
        strawberry.argument(
            description="A declared setting's key (docs/admin.md lists them; any other: "
            "BAD_USER_INPUT)."
        ),
    ],
    value: Annotated[
        JSON,
        strawberry.argument(description="The new value; it must fit the key's schema."),
    ],
) -> ConfigEntry:
    context = info.context
    value_: Any = value
    row = await system_config.set_system_config(
        session=context.session, principal=context.require_principal(), key=key, value=value_
    )
    return ConfigEntry.from_row(row)


@strawberry.type
class Mutation:
    set_system_config: ConfigEntry = strawberry.federation.mutation(
        resolver=resolve_set_system_config,
        description="Set a typed configuration value (validated per key: BAD_USER_INPUT).",
        requires_scopes=ADMIN,
    )
