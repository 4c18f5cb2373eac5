"""Every service's migration history applies, rolls back to nothing and applies again."""

from __future__ import annotations

import asyncio

from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from shared.db import async_url
from shared.migrations import SERVICES, alembic_config, upgrade_all


async def tables(url: str) -> dict[str, int]:
    engine = create_async_engine(async_url(url), poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT table_schema, count(*) FROM information_schema.tables "
                    "WHERE table_schema = ANY(:schemas) GROUP BY table_schema"
                ),
                {"schemas": list(SERVICES)},
            )
            return {schema: int(count) for schema, count in rows}
    finally:
        await engine.dispose()


async def test_up_down_up(scratch_database: str) -> None:
    await asyncio.to_thread(upgrade_all, scratch_database)
    applied = await tables(scratch_database)
    assert set(applied) == set(SERVICES)
    # Down in the reverse order of the dependencies (admin's views read auth and payments).
    for service in reversed(SERVICES):
        config = alembic_config(service, scratch_database)
        await asyncio.to_thread(command.downgrade, config, "base")
    # Only each schema's Alembic version table is left.
    assert all(count == 1 for count in (await tables(scratch_database)).values())
    await asyncio.to_thread(upgrade_all, scratch_database)
    assert await tables(scratch_database) == applied
