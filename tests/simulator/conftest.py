from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from subgraphs.payments.simulator import SimulatorSettings, create_app
from tests.simulator.support import (
    KEY_ID,
    KEY_SECRET,
    WEBHOOK_SECRET,
    Receiver,
    ServerThread,
    Sim,
)

MakeSim = Callable[..., Sim]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The simulator reads RAZORPAY_* from the environment: tests start from none."""
    for name in list(os.environ):
        if name.startswith("RAZORPAY_") or name == "APP_ENV":
            monkeypatch.delenv(name)


def sim_settings(**overrides: Any) -> SimulatorSettings:
    values: dict[str, Any] = {
        "key_id": KEY_ID,
        "key_secret": KEY_SECRET,
        "webhook_secret": WEBHOOK_SECRET,
        "webhook_urls": [],
        "webhook_timeout_s": 2.0,
        "webhook_max_attempts": 5,
        "webhook_backoff_base_s": 0.05,
        "webhook_backoff_max_s": 0.2,
        "webhook_duplicate": False,
        "webhook_reorder": False,
        "webhook_delay_ms": 0,
        "webhook_fail_first": 0,
        "webhook_quirks": [],
        "auto_capture": True,
        "state_file": None,
        "app_env": "test",
    }
    values.update(overrides)
    return SimulatorSettings(**values)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    endpoint = Receiver()
    yield endpoint
    endpoint.close()


@pytest.fixture
def make_sim() -> Iterator[MakeSim]:
    started: list[tuple[ServerThread, Sim]] = []

    def make(**overrides: Any) -> Sim:
        server = ServerThread(create_app(sim_settings(**overrides))).start()
        sim = Sim.of(server, timeout=10)
        started.append((server, sim))
        return sim

    try:
        yield make
    finally:
        # Every server is stopped even when one does not stop in time (the first failure is
        # raised after): a server left running keeps its uvicorn thread for the whole session.
        with ExitStack() as stack:
            for server, sim in started:
                stack.callback(server.stop)
                stack.callback(sim.close)


@pytest.fixture(scope="package")
def _shared() -> Iterator[Sim]:
    server = ServerThread(create_app(sim_settings())).start()
    sim = Sim.of(server, timeout=10)
    try:
        yield sim
    finally:
        sim.close()
        server.stop()


@pytest.fixture
def api(_shared: Sim) -> Iterator[Sim]:
    """The shared simulator (default settings, no webhook URL), reset after the test."""
    yield _shared
    assert _shared.http.post("/_sim/reset").json() == {"reset": True}


@pytest.fixture
def sim(api: Sim, receiver: Receiver) -> Sim:
    """The shared simulator delivering its webhooks to this test's `receiver`."""
    response = api.http.put("/_sim/webhook-config", json={"urls": [receiver.url]})
    assert response.json()["urls"] == [receiver.url]
    return api
