"""Fixtures of the admin tests: the in-process admin app."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from shared.config import AdminSettings
from shared.tokens import SigningKeys, generate_private_key_pem
from subgraphs.admin.app import create_app
from subgraphs.admin.context import AdminDeps
from tests.conftest import Infra
from tests.helpers import ROUTER_SECRET, Subgraph, app_client, verifier_factory

# The payments process of test_system_health, with the simulator as Razorpay: imported here, not
# in the test module, so that the package-scoped ones end with this folder (a fixture of package
# scope defined in a test module lives as long as the session).
from tests.payments.conftest import (  # noqa: F401  (fixtures)
    keys,
    payments_settings,
    shop_settings,
    simulator,
)


@pytest.fixture(scope="session")
def admin_keys() -> SigningKeys:
    return SigningKeys(generate_private_key_pem())


@pytest.fixture(scope="package")
async def admin(infra: Infra, admin_keys: SigningKeys) -> AsyncIterator[Subgraph]:
    settings = AdminSettings(
        app_env="test",
        database_url=infra.database_url,
        redis_url=infra.redis_url,
        router_hmac_secret=ROUTER_SECRET,
        log_json=False,
        log_level="WARNING",
    )
    app = create_app(
        settings,
        deps=AdminDeps(verifier_factory=verifier_factory(admin_keys)),
    )
    async with app_client(app) as client:
        yield Subgraph(
            client=client, engine=app.state.resources.engine, settings=settings, keys=admin_keys
        )
