"""Development accounts: idempotent, verified, usable for login, impossible in production."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from shared.config import ConfigurationError
from shared.db import async_url
from shared.migrations import upgrade
from subgraphs.auth.passwords import default_hasher
from subgraphs.auth.seed import DEV_ACCOUNTS, seed, seed_dev_accounts
from tests.auth.support import fast_passwords

SEED_PASSWORD = "Dev-Seed-Password-1"


async def _dev_rows(session: AsyncSession) -> list[Any]:
    result = await session.execute(
        text(
            "SELECT id, email, role, email_verified, password_hash FROM auth.users "
            "WHERE email = ANY(:emails) ORDER BY email"
        ),
        {"emails": [email for email, _, _ in DEV_ACCOUNTS]},
    )
    return list(result.all())


async def test_seed_is_idempotent(db_session: AsyncSession) -> None:
    passwords = fast_passwords()
    first = await seed_dev_accounts(
        db_session, password=SEED_PASSWORD, app_env="test", passwords=passwords
    )
    rows = await _dev_rows(db_session)
    second = await seed_dev_accounts(
        db_session, password="Another-Password-2", app_env="development", passwords=passwords
    )
    assert first == second
    assert {(r.email, r.role, r.email_verified) for r in rows} == {
        ("admin@example.com", "ADMIN", True),
        ("vendor@example.com", "VENDOR", True),
        ("customer@example.com", "CUSTOMER", True),
    }
    assert {r.email: r.id for r in rows} == first
    # Existing accounts are left exactly as they were.
    assert await _dev_rows(db_session) == rows


async def test_seed_refused_in_production(db_session: AsyncSession) -> None:
    with pytest.raises(ConfigurationError, match="production"):
        await seed_dev_accounts(db_session, password=SEED_PASSWORD, app_env="production")
    with pytest.raises(ConfigurationError, match="empty"):
        await seed_dev_accounts(db_session, password="", app_env="development")
    with pytest.raises(ConfigurationError, match="production"):
        await seed("postgresql://nowhere/none", SEED_PASSWORD, "production")


async def test_seed_entry_point(scratch_database: str) -> None:
    import asyncio

    await asyncio.to_thread(upgrade, "auth", scratch_database)
    await seed(scratch_database, SEED_PASSWORD, "development")
    await seed(scratch_database, SEED_PASSWORD, "development")
    engine = create_async_engine(async_url(scratch_database), poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            users = await conn.scalar(text("SELECT count(*) FROM auth.users"))
            events = await conn.scalar(
                text("SELECT count(*) FROM auth.outbox_events WHERE type = 'auth:user:registered'")
            )
            hashes = (await conn.execute(text("SELECT password_hash FROM auth.users"))).scalars()
            assert all(default_hasher().verify(h, SEED_PASSWORD) for h in hashes)
    finally:
        await engine.dispose()
    assert (users, events) == (3, 3)
