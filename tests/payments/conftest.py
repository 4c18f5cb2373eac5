"""Fixtures of the payments tests: the in-process payments app and committed test data."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from shared.config import PaymentsSettings
from shared.tokens import SigningKeys, generate_private_key_pem
from subgraphs.payments.app import create_app
from subgraphs.payments.context import PaymentsDeps
from subgraphs.payments.simulator import SimulatorSettings
from subgraphs.payments.simulator import create_app as create_simulator
from tests.conftest import Infra
from tests.helpers import ROUTER_SECRET, Subgraph, app_client, verifier_factory
from tests.simulator.support import KEY_ID, KEY_SECRET, WEBHOOK_SECRET, ServerThread, Sim


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


@pytest.fixture(scope="package")
async def payments(
    payments_settings: PaymentsSettings, keys: SigningKeys
) -> AsyncIterator[Subgraph]:
    app = create_app(
        payments_settings,
        deps=PaymentsDeps.from_settings(payments_settings, verifier_factory=verifier_factory(keys)),
    )
    async with app_client(app) as client:
        yield Subgraph(
            client=client,
            engine=app.state.resources.engine,
            settings=payments_settings,
            keys=keys,
        )


@pytest.fixture(scope="package")
def simulator() -> Iterator[Sim]:
    """The Razorpay simulator in a uvicorn thread (no webhook URLs: these tests apply Razorpay's
    view through verifyPayment and reconciliation; the sidecar's tests cover webhooks)."""
    settings = SimulatorSettings(
        key_id=KEY_ID, key_secret=KEY_SECRET, webhook_secret=WEBHOOK_SECRET, webhook_urls=[]
    )
    server = ServerThread(create_simulator(settings)).start()
    sim = Sim.of(server, timeout=30)
    try:
        yield sim
    finally:
        sim.close()
        server.stop()


@pytest.fixture
def faults(simulator: Sim) -> Iterator[Callable[..., None]]:
    """Inject simulator faults (`mode`, `count`, `path_prefix`, `sleep_s`); cleared afterwards."""

    def inject(mode: str, **options: Any) -> None:
        response = simulator.http.post("/_sim/faults", json={"mode": mode, **options})
        assert response.status_code == 200, response.text

    try:
        yield inject
    finally:
        inject("none")


@pytest.fixture(scope="package")
def shop_settings(payments_settings: PaymentsSettings, simulator: Sim) -> PaymentsSettings:
    """Payments settings calling the simulator as Razorpay (short timeouts for the tests)."""
    return payments_settings.model_copy(
        update={
            "razorpay_key_id": KEY_ID,
            "razorpay_key_secret": SecretStr(KEY_SECRET),
            "razorpay_api_base_url": simulator.url,
            "razorpay_timeout_seconds": 1.0,
            "razorpay_retry_backoff_seconds": 0.01,
            "razorpay_breaker_threshold": 25,
            "reconcile_interval_seconds": 0.0,
        }
    )


@pytest.fixture(scope="package")
async def shop(shop_settings: PaymentsSettings, keys: SigningKeys) -> AsyncIterator[Subgraph]:
    """The payments app with Razorpay (the simulator) configured."""
    app = create_app(
        shop_settings,
        deps=PaymentsDeps.from_settings(shop_settings, verifier_factory=verifier_factory(keys)),
    )
    async with app_client(app) as client:
        yield Subgraph(
            client=client, engine=app.state.resources.engine, settings=shop_settings, keys=keys
        )
