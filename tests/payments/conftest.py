"""Fixtures of the payments tests: the in-process payments app and committed test data."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from shared.config import PaymentsSettings
from shared.tokens import SigningKeys, generate_private_key_pem
from subgraphs.payments.app import create_app
from tests.conftest import Infra
from tests.helpers import ROUTER_SECRET, Subgraph, app_client, verifier_factory


@pytest.fixture(scope="session")
def keys() -> SigningKeys:
    return SigningKeys(generate_private_key_pem())


@pytest.fixture(scope="session")
def payments_settings(infra: Infra) -> PaymentsSettings:
    return PaymentsSettings(
        app_env="test",
        database_url=infra.database_url,
        redis_url=infra.redis_url,
        router_hmac_secret=ROUTER_SECRET,
        log_json=False,
        log_level="WARNING",
    )


@pytest.fixture(scope="session")
async def payments(
    payments_settings: PaymentsSettings, keys: SigningKeys
) -> AsyncIterator[Subgraph]:
    app = create_app(payments_settings, verifier_factory=verifier_factory(keys))
    async with app_client(app) as client:
        yield Subgraph(
            client=client,
            engine=app.state.resources.engine,
            settings=payments_settings,
            keys=keys,
        )
