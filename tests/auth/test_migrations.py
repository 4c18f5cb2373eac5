"""The hand-written migration: upgrade creates the schema objects, downgrade removes them."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from shared.db import async_url
from shared.migrations import upgrade
from subgraphs.auth.models import Base

OBJECTS = """
SELECT table_name FROM information_schema.tables WHERE table_schema = 'auth'
ORDER BY table_name
"""


async def _names(url: str) -> list[str]:
    engine = create_async_engine(async_url(url), poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(text(OBJECTS))).scalars())
    finally:
        await engine.dispose()


async def test_upgrade_then_downgrade(scratch_database: str) -> None:
    from alembic import command

    from shared.migrations import alembic_config

    await asyncio.to_thread(upgrade, "auth", scratch_database)
    names = await _names(scratch_database)
    assert set(Base.metadata.tables) == {
        f"auth.{n}" for n in names if n not in {"alembic_version", "user_directory"}
    }
    assert "user_directory" in names
    await asyncio.to_thread(command.downgrade, alembic_config("auth", scratch_database), "base")
    assert await _names(scratch_database) == ["alembic_version"]


async def test_user_directory_exposes_no_secrets(scratch_database: str) -> None:
    await asyncio.to_thread(upgrade, "auth", scratch_database)
    engine = create_async_engine(async_url(scratch_database), poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            columns = (
                await conn.execute(
                    text(
                        "SELECT column_name FROM information_schema.columns "
                        "WHERE table_schema = 'auth' AND table_name = 'user_directory' "
                        "ORDER BY ordinal_position"
                    )
                )
            ).scalars()
            assert list(columns) == [
                "id",
                "email",
                "name",
                "role",
                "email_verified",
                "created_at",
                "last_login_at",
                "locked_until",
                "deleted_at",
            ]
    finally:
        await engine.dispose()
