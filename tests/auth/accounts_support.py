"""Logging in as the accounts an ADMIN manages (auth's own service functions), and reading the
`admin:user:*` events user administration wrote to auth's outbox."""

from __future__ import annotations

import uuid
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from subgraphs.auth import service as auth_service
from subgraphs.auth.runtime import AuthRuntime
from subgraphs.auth.sessions import IssuedSession

PASSWORD = "Admin-Chosen-Pass-42"


async def log_in(
    engine: AsyncEngine, runtime: AuthRuntime, redis: Redis, email: str, password: str = PASSWORD
) -> IssuedSession:
    async with async_sessionmaker(engine, expire_on_commit=False)() as session:
        return await auth_service.login(
            session=session,
            runtime=runtime,
            redis=redis,
            client_ip="10.9.8.7",
            email=email,
            password=password,
        )


async def refresh(
    engine: AsyncEngine, runtime: AuthRuntime, redis: Redis, token: str
) -> IssuedSession:
    async with async_sessionmaker(engine, expire_on_commit=False)() as session:
        return await auth_service.refresh(
            session=session, runtime=runtime, redis=redis, client_ip=None, refresh_token=token
        )


async def admin_events(engine: AsyncEngine, user_id: uuid.UUID | str) -> list[dict[str, Any]]:
    """The `admin:user:*` rows of auth.outbox_events about this user, oldest first (auth's own
    events about them, such as `auth:user:logged_in`, left out)."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT id, type, occurred_at, actor_id, data FROM auth.outbox_events "
                "WHERE data->>'userId' = :uid AND type LIKE 'admin:user:%' ORDER BY seq"
            ),
            {"uid": str(user_id)},
        )
        return [dict(row._mapping) for row in rows]
