"""Admin mutations (ADMIN only, declared per field): user management and system configuration."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from shared.scalars import JSON
from shared.scopes import Role as ScopeRole
from subgraphs.admin import accounts, system_config
from subgraphs.admin.context import Context
from subgraphs.admin.inputs import CreateUserInput, UpdateUserInput
from subgraphs.admin.types import ADMIN, ConfigEntry, Role, User


async def resolve_create_user(info: Info[Context, None], input: CreateUserInput) -> User:
    context = info.context
    user = await accounts.create_user(
        session=context.session,
        passwords=context.passwords,
        principal=context.require_principal(),
        new=accounts.NewUser(
            email=input.email,
            name=input.name,
            role=ScopeRole(input.role.value),
            password=input.password,
        ),
    )
    return User.ref(user.id)


async def resolve_update_user(
    info: Info[Context, None], id: strawberry.ID, input: UpdateUserInput
) -> User:
    context = info.context
    user = await accounts.update_user(
        session=context.session,
        principal=context.require_principal(),
        user_id=str(id),
        edit=accounts.UserEdit(
            name=input.name, email=input.email, email_verified=input.email_verified
        ),
    )
    return User.ref(user.id)


async def resolve_set_user_role(info: Info[Context, None], id: strawberry.ID, role: Role) -> User:
    context = info.context
    user = await accounts.set_user_role(
        session=context.session,
        redis=context.redis,
        principal=context.require_principal(),
        user_id=str(id),
        role=ScopeRole(role.value),
    )
    return User.ref(user.id)


async def resolve_delete_user(info: Info[Context, None], id: strawberry.ID) -> bool:
    context = info.context
    return await accounts.delete_user(
        session=context.session,
        redis=context.redis,
        principal=context.require_principal(),
        user_id=str(id),
    )


async def resolve_set_system_config(
    info: Info[Context, None], key: str, value: JSON
) -> ConfigEntry:
    context = info.context
    value_: Any = value
    row = await system_config.set_system_config(
        session=context.session, principal=context.require_principal(), key=key, value=value_
    )
    return ConfigEntry.from_row(row)


@strawberry.type
class Mutation:
    create_user: User = strawberry.federation.mutation(
        resolver=resolve_create_user,
        description="Create an account with a password (auth's policy); the address counts as "
        "verified. Duplicate e-mail: CONFLICT.",
        requires_scopes=ADMIN,
    )
    update_user: User = strawberry.federation.mutation(
        resolver=resolve_update_user,
        description="Change an account's name, e-mail or verified flag. Unknown user: NOT_FOUND.",
        requires_scopes=ADMIN,
    )
    set_user_role: User = strawberry.federation.mutation(
        resolver=resolve_set_user_role,
        description="Change an account's role; its sessions end, so its next token (next login) "
        "carries the new role. Not your own role (BAD_USER_INPUT).",
        requires_scopes=ADMIN,
    )
    delete_user: bool = strawberry.federation.mutation(
        resolver=resolve_delete_user,
        description="Soft-delete an account: no more logins, sessions revoked, outstanding "
        "access tokens refused. Not yourself (BAD_USER_INPUT).",
        requires_scopes=ADMIN,
    )
    set_system_config: ConfigEntry = strawberry.federation.mutation(
        resolver=resolve_set_system_config,
        description="Set a typed configuration value (validated per key: BAD_USER_INPUT).",
        requires_scopes=ADMIN,
    )
