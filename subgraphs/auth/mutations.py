"""Mutation root of the auth subgraph: read input, call the service, map the result."""

from __future__ import annotations

import strawberry

from subgraphs.auth import recovery, service
from subgraphs.auth.context import Context
from subgraphs.auth.types import AuthPayload, LoginInput, RegisterInput, Role

Info = strawberry.Info[Context, None]


async def resolve_logout(info: Info, refresh_token: str) -> bool:
    ctx = info.context
    return await service.logout(
        session=ctx.session,
        runtime=ctx.runtime,
        redis=ctx.redis,
        principal=ctx.require_principal(),
        refresh_token=refresh_token,
    )


async def resolve_change_password(info: Info, current_password: str, new_password: str) -> bool:
    ctx = info.context
    return await service.change_password(
        session=ctx.session,
        runtime=ctx.runtime,
        redis=ctx.redis,
        principal=ctx.require_principal(),
        current_password=current_password,
        new_password=new_password,
    )


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def register(self, info: Info, input: RegisterInput) -> AuthPayload:
        ctx = info.context
        issued = await service.register(
            session=ctx.session,
            runtime=ctx.runtime,
            redis=ctx.redis,
            client_ip=ctx.client_ip,
            email=input.email,
            password=input.password,
            name=input.name,
            role=(input.role or Role.CUSTOMER).to_domain(),
        )
        return AuthPayload.from_session(issued)

    @strawberry.mutation
    async def login(self, info: Info, input: LoginInput) -> AuthPayload:
        ctx = info.context
        issued = await service.login(
            session=ctx.session,
            runtime=ctx.runtime,
            redis=ctx.redis,
            client_ip=ctx.client_ip,
            email=input.email,
            password=input.password,
        )
        return AuthPayload.from_session(issued)

    @strawberry.mutation
    async def refresh_token(self, info: Info, refresh_token: str) -> AuthPayload:
        ctx = info.context
        issued = await service.refresh(
            session=ctx.session,
            runtime=ctx.runtime,
            redis=ctx.redis,
            client_ip=ctx.client_ip,
            refresh_token=refresh_token,
        )
        return AuthPayload.from_session(issued)

    logout: bool = strawberry.federation.mutation(resolver=resolve_logout, authenticated=True)
    change_password: bool = strawberry.federation.mutation(
        resolver=resolve_change_password, authenticated=True
    )

    @strawberry.mutation
    async def request_password_reset(self, info: Info, email: str) -> bool:
        ctx = info.context
        return await recovery.request_password_reset(
            session=ctx.session,
            runtime=ctx.runtime,
            redis=ctx.redis,
            client_ip=ctx.client_ip,
            email=email,
        )

    @strawberry.mutation
    async def reset_password(self, info: Info, token: str, new_password: str) -> bool:
        ctx = info.context
        return await recovery.reset_password(
            session=ctx.session,
            runtime=ctx.runtime,
            redis=ctx.redis,
            client_ip=ctx.client_ip,
            token=token,
            new_password=new_password,
        )

    @strawberry.mutation
    async def verify_email(self, info: Info, token: str) -> bool:
        return await recovery.verify_email(session=info.context.session, token=token)
