"""Mutation root of the auth subgraph: read input, call the service, map the result."""

from __future__ import annotations

import strawberry

from subgraphs.auth import mfa, recovery, service, user_admin
from subgraphs.auth.context import Context
from subgraphs.auth.types import (
    ADMIN,
    AuthPayload,
    CreateUserInput,
    LoginInput,
    RegisterInput,
    Role,
    TotpEnabled,
    TotpSetup,
    UpdateUserInput,
    User,
)

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


async def resolve_create_user(info: Info, input: CreateUserInput) -> User:
    ctx = info.context
    row = await user_admin.create_user(
        session=ctx.session,
        passwords=ctx.runtime.passwords,
        principal=ctx.require_principal(),
        new=user_admin.NewUser(
            email=input.email, name=input.name, role=input.role.to_domain(), password=input.password
        ),
    )
    return User.from_row(row)


async def resolve_update_user(info: Info, id: strawberry.ID, input: UpdateUserInput) -> User:
    ctx = info.context
    row = await user_admin.update_user(
        session=ctx.session,
        principal=ctx.require_principal(),
        user_id=str(id),
        edit=user_admin.UserEdit(
            name=input.name, email=input.email, email_verified=input.email_verified
        ),
    )
    return User.from_row(row)


async def resolve_set_user_role(info: Info, id: strawberry.ID, role: Role) -> User:
    ctx = info.context
    row = await user_admin.set_user_role(
        session=ctx.session,
        redis=ctx.redis,
        principal=ctx.require_principal(),
        user_id=str(id),
        role=role.to_domain(),
    )
    return User.from_row(row)


async def resolve_delete_user(info: Info, id: strawberry.ID) -> bool:
    ctx = info.context
    return await user_admin.delete_user(
        session=ctx.session, redis=ctx.redis, principal=ctx.require_principal(), user_id=str(id)
    )


async def resolve_login_with_totp(info: Info, mfa_token: str, code: str) -> AuthPayload:
    ctx = info.context
    issued = await mfa.login_with_totp(
        session=ctx.session,
        runtime=ctx.runtime,
        redis=ctx.redis,
        client_ip=ctx.client_ip,
        mfa_token=mfa_token,
        code=code,
    )
    return AuthPayload.from_session(issued)


async def resolve_start_totp_enrollment(info: Info) -> TotpSetup:
    ctx = info.context
    setup = await mfa.start_enrollment(
        session=ctx.session, runtime=ctx.runtime, principal=ctx.require_principal()
    )
    return TotpSetup(secret=setup.secret, otpauth_uri=setup.otpauth_uri)


async def resolve_confirm_totp_enrollment(info: Info, code: str) -> TotpEnabled:
    ctx = info.context
    codes = await mfa.confirm_enrollment(
        session=ctx.session,
        runtime=ctx.runtime,
        redis=ctx.redis,
        client_ip=ctx.client_ip,
        principal=ctx.require_principal(),
        code=code,
    )
    return TotpEnabled(recovery_codes=codes)


async def resolve_disable_totp(info: Info, code: str) -> bool:
    ctx = info.context
    return await mfa.disable_totp(
        session=ctx.session,
        runtime=ctx.runtime,
        redis=ctx.redis,
        client_ip=ctx.client_ip,
        principal=ctx.require_principal(),
        code=code,
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

    login_with_totp: AuthPayload = strawberry.mutation(
        resolver=resolve_login_with_totp,
        description="The second login step of a TOTP-enrolled account: the mfaToken from "
        "login's MFA_REQUIRED error and a TOTP or recovery code. Wrong code: BAD_USER_INPUT "
        "(try again); expired or used mfaToken: UNAUTHENTICATED (log in again).",
    )
    start_totp_enrollment: TotpSetup = strawberry.federation.mutation(
        resolver=resolve_start_totp_enrollment,
        authenticated=True,
        description="A new TOTP secret (replaces an unconfirmed one). Already enabled: CONFLICT.",
    )
    confirm_totp_enrollment: TotpEnabled = strawberry.federation.mutation(
        resolver=resolve_confirm_totp_enrollment,
        authenticated=True,
        description="Turn TOTP on with a current code; returns 10 single-use recovery codes, "
        "shown once. Wrong code: BAD_USER_INPUT.",
    )
    disable_totp: bool = strawberry.federation.mutation(
        resolver=resolve_disable_totp,
        authenticated=True,
        description="Turn TOTP off with a current TOTP code or a recovery code.",
    )

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

    # User administration (ADMIN only): auth owns the accounts, so it serves these.
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
