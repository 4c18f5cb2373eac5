"""Mutation root of the auth subgraph: read input, call the service, map the result."""

from __future__ import annotations

from typing import Annotated

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


async def resolve_logout(
    info: Info,
    refresh_token: Annotated[
        str, strawberry.argument(description="The session's refresh token, to revoke.")
    ],
) -> bool:
    ctx = info.context
    return await service.logout(
        session=ctx.session,
        runtime=ctx.runtime,
        redis=ctx.redis,
        principal=ctx.require_principal(),
        refresh_token=refresh_token,
    )


async def resolve_change_password(
    info: Info,
    current_password: Annotated[str, strawberry.argument(description="The password in use.")],
    new_password: Annotated[
        str, strawberry.argument(description="The new password (the same policy as register's).")
    ],
) -> bool:
    ctx = info.context
    return await service.change_password(
        session=ctx.session,
        runtime=ctx.runtime,
        redis=ctx.redis,
        principal=ctx.require_principal(),
        current_password=current_password,
        new_password=new_password,
    )


async def resolve_create_user(
    info: Info,
    input: Annotated[CreateUserInput, strawberry.argument(description="The new account.")],
) -> User:
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


async def resolve_update_user(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The account to change.")],
    input: Annotated[UpdateUserInput, strawberry.argument(description="What to change.")],
) -> User:
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


async def resolve_set_user_role(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The account to change.")],
    role: Annotated[Role, strawberry.argument(description="Its new role.")],
) -> User:
    ctx = info.context
    row = await user_admin.set_user_role(
        session=ctx.session,
        redis=ctx.redis,
        principal=ctx.require_principal(),
        user_id=str(id),
        role=role.to_domain(),
    )
    return User.from_row(row)


async def resolve_delete_user(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The account to delete.")],
) -> bool:
    ctx = info.context
    return await user_admin.delete_user(
        session=ctx.session, redis=ctx.redis, principal=ctx.require_principal(), user_id=str(id)
    )


async def resolve_login_with_totp(
    info: Info,
    mfa_token: Annotated[
        str,
        strawberry.argument(
            description="extensions.mfaToken of login's MFA_REQUIRED error (single use, 5 minutes)."
        ),
    ],
    code: Annotated[
        str,
        strawberry.argument(
            description="The 6-digit code the authenticator app shows now, or an unused "
            "recovery code."
        ),
    ],
) -> AuthPayload:
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


async def resolve_confirm_totp_enrollment(
    info: Info,
    code: Annotated[
        str,
        strawberry.argument(
            description="The 6-digit code the authenticator app shows for the new secret."
        ),
    ],
) -> TotpEnabled:
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


async def resolve_disable_totp(
    info: Info,
    code: Annotated[
        str, strawberry.argument(description="A current 6-digit TOTP code or a recovery code.")
    ],
) -> bool:
    ctx = info.context
    return await mfa.disable_totp(
        session=ctx.session,
        runtime=ctx.runtime,
        redis=ctx.redis,
        client_ip=ctx.client_ip,
        principal=ctx.require_principal(),
        code=code,
    )


async def resolve_register(
    info: Info,
    input: Annotated[RegisterInput, strawberry.argument(description="The new account.")],
) -> AuthPayload:
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


async def resolve_login(
    info: Info,
    input: Annotated[LoginInput, strawberry.argument(description="The credentials.")],
) -> AuthPayload:
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


async def resolve_refresh_token(
    info: Info,
    refresh_token: Annotated[
        str, strawberry.argument(description="The latest refreshToken this session got.")
    ],
) -> AuthPayload:
    ctx = info.context
    issued = await service.refresh(
        session=ctx.session,
        runtime=ctx.runtime,
        redis=ctx.redis,
        client_ip=ctx.client_ip,
        refresh_token=refresh_token,
    )
    return AuthPayload.from_session(issued)


async def resolve_request_password_reset(
    info: Info,
    email: Annotated[str, strawberry.argument(description="The account's e-mail address.")],
) -> bool:
    ctx = info.context
    return await recovery.request_password_reset(
        session=ctx.session,
        runtime=ctx.runtime,
        redis=ctx.redis,
        client_ip=ctx.client_ip,
        email=email,
    )


async def resolve_reset_password(
    info: Info,
    token: Annotated[str, strawberry.argument(description="The token from the reset mail.")],
    new_password: Annotated[
        str, strawberry.argument(description="The new password (register's policy).")
    ],
) -> bool:
    ctx = info.context
    return await recovery.reset_password(
        session=ctx.session,
        runtime=ctx.runtime,
        redis=ctx.redis,
        client_ip=ctx.client_ip,
        token=token,
        new_password=new_password,
    )


async def resolve_verify_email(
    info: Info,
    token: Annotated[str, strawberry.argument(description="The token from the verification mail.")],
) -> bool:
    return await recovery.verify_email(session=info.context.session, token=token)


@strawberry.type(
    description="Write operations. Each field says who may call it and the errors particular "
    "to it; every error code, and what to do about it, is in docs/errors.md."
)
class Mutation:
    register: AuthPayload = strawberry.mutation(
        resolver=resolve_register,
        description="Create a CUSTOMER account and sign it in. Taken e-mail: CONFLICT; role "
        "VENDOR or ADMIN: FORBIDDEN; weak password or bad address: BAD_USER_INPUT (`field`); "
        "too many attempts: RATE_LIMITED (`retryAfter`).",
    )

    login: AuthPayload = strawberry.mutation(
        resolver=resolve_login,
        description="Sign in with e-mail and password. Wrong password or unknown e-mail: "
        "UNAUTHENTICATED (one message for both); TOTP enrolled: MFA_REQUIRED with "
        "extensions.mfaToken for loginWithTotp; a locked account answers UNAUTHENTICATED too; "
        "too many attempts per IP or account: RATE_LIMITED (`retryAfter`).",
    )

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

    refresh_token: AuthPayload = strawberry.mutation(
        resolver=resolve_refresh_token,
        description="Trade a refresh token for a new access and refresh token (rotation: the "
        "old one stops working). Unknown, expired or revoked: UNAUTHENTICATED (log in again); "
        "a reused old token revokes the whole session family.",
    )

    logout: bool = strawberry.federation.mutation(
        resolver=resolve_logout,
        authenticated=True,
        description="End this session and the one the refresh token belongs to (when it is "
        "the caller's): refresh tokens revoked, access tokens refused from now on. Always true.",
    )
    change_password: bool = strawberry.federation.mutation(
        resolver=resolve_change_password,
        authenticated=True,
        description="Change the caller's password; every other session of the account ends. "
        "Wrong current password, or a new one that breaks the policy or equals the current "
        "one: BAD_USER_INPUT (field `currentPassword` / `newPassword`).",
    )

    request_password_reset: bool = strawberry.mutation(
        resolver=resolve_request_password_reset,
        description="Mail a password-reset link if the address has an account. Always true, so "
        "it does not reveal which addresses exist; rate limited (RATE_LIMITED, `retryAfter`).",
    )

    reset_password: bool = strawberry.mutation(
        resolver=resolve_reset_password,
        description="Set a new password with the token from the reset mail; every session of "
        "the account ends. Unknown, used or expired token: BAD_USER_INPUT (field `token`).",
    )

    verify_email: bool = strawberry.mutation(
        resolver=resolve_verify_email,
        description="Confirm the e-mail address with the token from the verification mail. "
        "Unknown, used or expired token: BAD_USER_INPUT (field `token`).",
    )

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
