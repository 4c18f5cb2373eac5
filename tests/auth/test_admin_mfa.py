"""ADMIN_MFA_REQUIRED=true through a real auth app: an ADMIN who signed in with the password
only is refused admin-scoped fields (FORBIDDEN); after loginWithTotp the same account works."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.auth.mfa_support import CONFIRM, START, code_at, current_step
from tests.auth.support import AuthHarness, codes
from tests.auth.test_mfa import mfa_token, second_step

USERS = "query Users { users(first: 1) { totalCount } }"
LAST_LOGIN = "query Me { me { id lastLoginAt } }"


async def test_admin_without_mfa_is_refused_admin_fields(
    make_harness: Callable[..., AbstractAsyncContextManager[AuthHarness]],
    unique_email: str,
    committed_engine: AsyncEngine,
) -> None:
    async with make_harness(admin_mfa_required=True) as auth:
        registered = await auth.register(unique_email)
        async with committed_engine.begin() as conn:
            await conn.execute(
                text("UPDATE auth.users SET role = 'ADMIN' WHERE id = :id"),
                {"id": uuid.UUID(registered["user"]["id"])},
            )
        password_only = (await auth.login(unique_email))["accessToken"]
        refused = await auth.gql(USERS, token=password_only)
        assert codes(refused) == ["FORBIDDEN"]
        field = await auth.gql(LAST_LOGIN, token=password_only)
        assert codes(field) == ["FORBIDDEN"]  # the admin-scoped field of an entity, too
        assert field["data"]["me"]["id"] == registered["user"]["id"]

        # The ADMIN enrols (allowed without MFA) and signs in with both factors.
        enrolled = await enrol_admin(auth, unique_email)
        token = await mfa_token(auth, unique_email)
        result = await second_step(auth, token, code_at(enrolled[0], enrolled[1] + 1))
        assert "errors" not in result, result
        with_mfa = result["data"]["loginWithTotp"]["accessToken"]
        assert "errors" not in await auth.gql(USERS, token=with_mfa)


async def enrol_admin(auth: AuthHarness, email: str) -> tuple[str, int]:
    token = (await auth.login(email))["accessToken"]
    setup = (await auth.ok(START, token=token))["startTotpEnrollment"]
    step = await current_step()
    await auth.ok(CONFIRM, {"c": code_at(setup["secret"], step - 1)}, token=token)
    return setup["secret"], step - 1
