"""Fixtures of the admin tests: the in-process admin app, auth's runtime (to log in as the
accounts admin manages) and users written into auth's table."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from shared.config import AdminSettings
from shared.tokens import SigningKeys, TokenVerifier, generate_private_key_pem
from subgraphs.admin.app import create_app
from subgraphs.admin.context import AdminDeps
from subgraphs.auth.runtime import AuthRuntime
from tests.auth.support import auth_settings, fast_passwords
from tests.conftest import Infra
from tests.helpers import ROUTER_SECRET, Subgraph, app_client, verifier_factory


@pytest.fixture(scope="session")
def admin_keys() -> SigningKeys:
    return SigningKeys(generate_private_key_pem())


@pytest.fixture(scope="session")
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
        deps=AdminDeps(verifier_factory=verifier_factory(admin_keys), passwords=fast_passwords()),
    )
    async with app_client(app) as client:
        yield Subgraph(
            client=client, engine=app.state.resources.engine, settings=settings, keys=admin_keys
        )


@pytest.fixture(scope="session")
def auth_runtime(infra: Infra) -> AuthRuntime:
    """Auth's rules and keys without its app (no mail sender): logins for these tests."""
    settings = auth_settings(
        database_url=infra.database_url,
        redis_url=infra.redis_url,
        private_pem=generate_private_key_pem(),
    )
    return AuthRuntime.create(settings, passwords=fast_passwords())


@pytest.fixture(scope="session")
def auth_verifier(auth_runtime: AuthRuntime) -> TokenVerifier:
    """What every subgraph verifies auth's access tokens with (auth's JWKS, read locally)."""
    settings = auth_runtime.settings
    return verifier_factory(auth_runtime.keys)(settings)
