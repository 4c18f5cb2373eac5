"""Fixtures of the profile tests: the in-process profile app."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from shared.config import ProfileSettings
from shared.db import async_url
from shared.tokens import SigningKeys, generate_private_key_pem
from subgraphs.profile.app import create_app
from subgraphs.profile.context import ProfileDeps
from tests.conftest import Infra
from tests.helpers import ROUTER_SECRET, Subgraph, app_client, verifier_factory


@pytest.fixture(scope="package")
async def profile(infra: Infra) -> AsyncIterator[Subgraph]:
    keys = SigningKeys(generate_private_key_pem())
    settings = ProfileSettings(
        app_env="test",
        database_url=infra.database_url,
        redis_url=infra.redis_url,
        router_hmac_secret=ROUTER_SECRET,
        log_json=False,
        log_level="WARNING",
        avatar_dir=infra.data_dir / "avatars",
    )
    app = create_app(
        settings, deps=ProfileDeps.from_settings(settings, verifier_factory=verifier_factory(keys))
    )
    async with app_client(app) as client:
        yield Subgraph(
            client=client, engine=app.state.resources.engine, settings=settings, keys=keys
        )


@pytest.fixture(scope="session")
async def profile_engine(infra: Infra) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(async_url(infra.database_url), poolclass=NullPool)
    try:
        yield engine
    finally:
        await engine.dispose()
