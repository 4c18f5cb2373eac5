"""Fixtures of the ledger tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from shared.db import async_url
from shared.migrations import upgrade_all
from tests.conftest import Infra
from tests.helpers import scratch_database


@pytest.fixture
async def own_ledger_url(infra: Infra) -> AsyncIterator[str]:
    """A migrated database of its own: a chain broken there upsets no other test."""
    async with scratch_database(infra.database_url, "ledger") as url:
        await asyncio.to_thread(upgrade_all, url)
        yield url


@pytest.fixture
async def own_ledger(own_ledger_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(async_url(own_ledger_url), poolclass=NullPool)
    try:
        yield engine
    finally:
        await engine.dispose()
