"""Fixtures of the metrics tests: the payments app calling the Razorpay simulator (the payments
tests' fixtures), an admin app with an allow-list of operation names, and the webhook sidecar."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from shared.config import AdminSettings
from shared.tokens import SigningKeys
from subgraphs.admin.app import create_app as create_admin
from subgraphs.admin.context import AdminDeps
from tests.conftest import Infra
from tests.helpers import ROUTER_SECRET, Subgraph, app_client, verifier_factory
from tests.payments.conftest import (  # noqa: F401  (fixtures)
    faults,
    keys,
    payments_settings,
    shop,
    shop_settings,
    simulator,
)
from tests.webhooks.conftest import db, make_settings  # noqa: F401  (fixtures)

KNOWN_OPERATION = "AdminDashboard"


@pytest.fixture(scope="package")
async def named_admin(infra: Infra, keys: SigningKeys) -> AsyncIterator[Subgraph]:  # noqa: F811
    """The admin app with METRICS_OPERATION_NAMES naming one operation."""
    settings = AdminSettings(
        app_env="test",
        database_url=infra.database_url,
        redis_url=infra.redis_url,
        router_hmac_secret=ROUTER_SECRET,
        log_json=False,
        log_level="WARNING",
        metrics_operation_names=f"{KNOWN_OPERATION}, SomethingElse",
    )
    app = create_admin(settings, deps=AdminDeps(verifier_factory=verifier_factory(keys)))
    async with app_client(app) as client:
        yield Subgraph(
            client=client, engine=app.state.resources.engine, settings=settings, keys=keys
        )
