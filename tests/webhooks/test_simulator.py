"""Against the Razorpay simulator: its signed deliveries (duplicated, reordered, retried after a
lost answer, with payload quirks) reach the sidecar over real HTTP and apply exactly once."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.payments.enums import PaymentStatus
from subgraphs.payments.simulator import SimulatorSettings
from subgraphs.payments.simulator import create_app as create_simulator
from subgraphs.payments.webhooks.app import create_app
from subgraphs.payments.webhooks.models import WebhookEvent
from tests.helpers import app_client
from tests.webhooks.conftest import Db, MakeSettings
from tests.webhooks.factories import SECRET, insert_payment

KEY_ID = "rzp_test_webhooks"
KEY_SECRET = "webhooks-test-key-secret"
QUIRKS = ["notes_dict", "empty_error_strings", "extra_fields", "drop_optional"]


class ServerThread:
    """The sidecar served by uvicorn in a thread on a free port (the simulator posts to it)."""

    def __init__(self, app: FastAPI) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self._server = uvicorn.Server(
            uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")
        )
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def start(self) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            assert time.monotonic() < deadline, "sidecar did not start"
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


@pytest.fixture
def sidecar_url(make_settings: MakeSettings) -> Iterator[str]:
    server = ServerThread(create_app(make_settings())).start()
    try:
        yield f"{server.url}/webhooks/razorpay"
    finally:
        server.stop()


@pytest.fixture
async def simulator(sidecar_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = SimulatorSettings(
        app_env="test",
        key_id=KEY_ID,
        key_secret=KEY_SECRET,
        webhook_secret=SECRET,
        webhook_urls=[sidecar_url],
        webhook_backoff_base_s=0.05,
        webhook_backoff_max_s=0.2,
        webhook_timeout_s=5.0,
    )
    async with app_client(create_simulator(settings)) as client:
        client.auth = httpx.BasicAuth(KEY_ID, KEY_SECRET)
        yield client


async def pay(
    simulator: httpx.AsyncClient, committed: AsyncSession, db: Db, **request: Any
) -> tuple[Any, dict[str, Any]]:
    order = (
        await simulator.post(
            "/v1/orders", json={"amount": 50_000, "currency": "INR", "receipt": "rcpt_webhooks"}
        )
    ).json()
    payment = await insert_payment(committed, order_id=order["id"], amount_minor=50_000)
    since = datetime.now(UTC)
    answer = await simulator.post(f"/_sim/orders/{order['id']}/pay", json=request)
    assert answer.status_code == 200, answer.text
    waited = await simulator.post("/_sim/deliveries/wait", json={"timeout_s": 20})
    assert waited.json() == {"pending": 0}
    await db.settled(since)  # answered once stored: the worker applies them
    return payment, answer.json()


async def stored_for(db: Db, payment_id: Any) -> list[WebhookEvent]:
    async with db.session() as session:
        rows = await session.scalars(
            select(WebhookEvent).where(WebhookEvent.payment_id == payment_id)
        )
        return list(rows)


async def test_duplicated_reordered_quirky_deliveries_apply_once(
    simulator: httpx.AsyncClient, committed: AsyncSession, db: Db
) -> None:
    payment, answer = await pay(
        simulator,
        committed,
        db,
        method="upi",
        webhook={"duplicate": True, "reorder": True, "quirks": QUIRKS},
    )

    deliveries = (await simulator.get("/_sim/deliveries")).json()["items"]
    assert deliveries
    assert {d["status_code"] for d in deliveries} == {200}
    assert any(d["duplicate"] for d in deliveries)
    after = await db.payment(payment.id)
    assert after.status == PaymentStatus.COMPLETED
    assert after.razorpay_payment_id == answer["razorpay_payment_id"]
    assert await db.transitions(payment.id) == [("PROCESSING", "COMPLETED")]
    rows = await stored_for(db, payment.id)
    assert {r.event_type for r in rows} >= {"payment.captured", "order.paid"}
    assert all(r.applied_at is not None for r in rows)
    assert len(rows) == len({d["event_id"] for d in deliveries})


async def test_a_lost_answer_is_retried_and_deduplicated(
    simulator: httpx.AsyncClient, committed: AsyncSession, db: Db
) -> None:
    payment, _ = await pay(simulator, committed, db, method="card", webhook={"fail_first": 1})

    deliveries = (await simulator.get("/_sim/deliveries")).json()["items"]
    per_event: dict[str, int] = {}
    for item in deliveries:
        per_event[item["event_id"]] = per_event.get(item["event_id"], 0) + 1
    assert set(per_event.values()) == {2}
    assert (await db.payment(payment.id)).status == PaymentStatus.COMPLETED
    assert await db.transitions(payment.id) == [("PROCESSING", "COMPLETED")]
    assert len(await stored_for(db, payment.id)) == len(per_event)


async def test_a_failed_attempt_then_success(
    simulator: httpx.AsyncClient, committed: AsyncSession, db: Db
) -> None:
    payment, _ = await pay(simulator, committed, db, method="netbanking", outcome="failure")
    assert (await db.payment(payment.id)).status == PaymentStatus.FAILED

    since = datetime.now(UTC)
    await simulator.post(
        f"/_sim/orders/{payment.razorpay_order_id}/pay", json={"method": "netbanking"}
    )
    await simulator.post("/_sim/deliveries/wait", json={"timeout_s": 20})
    await db.settled(since)

    assert (await db.payment(payment.id)).status == PaymentStatus.COMPLETED
    assert await db.transitions(payment.id) == [
        ("PROCESSING", "FAILED"),
        ("FAILED", "COMPLETED"),
    ]
