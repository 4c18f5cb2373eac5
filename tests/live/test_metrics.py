"""A real subscription over WebSocket, seen in the payments process's /metrics and /readyz:
`bff_live_subscriptions{service="payments"}` while it lives, the operation counted once."""

from __future__ import annotations

import httpx
from redis.asyncio import Redis

from shared.scopes import Role
from tests.helpers import wait_until
from tests.live.conftest import Replicas
from tests.live.processes import PaymentsProcess
from tests.live.test_subscription import create_payment, wait_subscribed, watch
from tests.metrics.scrape import Scrape, parse

LIVE = {"service": "payments"}
SUBSCRIPTION_OK = {
    "service": "payments",
    "operation_type": "subscription",
    "operation_name": "other",
    "outcome": "success",
}


async def scrape_process(process: PaymentsProcess) -> Scrape:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{process.port}") as client:
        response = await client.get("/metrics")
        assert response.status_code == 200
        return parse(response.text)


async def readiness_details(process: PaymentsProcess) -> dict[str, object]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{process.port}") as client:
        details: dict[str, object] = (await client.get("/readyz")).json().get("details", {})
        return details


async def test_a_live_subscription_is_counted_and_gauged(replicas: Replicas, redis: Redis) -> None:
    customer, vendor = replicas.caller(Role.CUSTOMER), replicas.caller(Role.VENDOR)
    payment_id = await create_payment(replicas, customer, vendor)
    before = await scrape_process(replicas.a)

    ws = await watch(replicas.a, customer, payment_id)
    try:
        await wait_subscribed(redis, payment_id, 1)

        async def gauged(value: float) -> bool:
            scraped = await scrape_process(replicas.a)
            return scraped.value("bff_live_subscriptions", **LIVE) == value

        await wait_until(lambda: gauged(before.value("bff_live_subscriptions", **LIVE) + 1))
        during = await scrape_process(replicas.a)
        details = await readiness_details(replicas.a)
    finally:
        await ws.close()
    await wait_until(lambda: gauged(before.value("bff_live_subscriptions", **LIVE)))

    ops = "bff_graphql_operations_total"
    assert during.value(ops, **SUBSCRIPTION_OK) == before.value(ops, **SUBSCRIPTION_OK) + 1
    assert details["liveSubscriptions"] == during.value("bff_live_subscriptions", **LIVE)
    assert details["razorpay"] == {"configured": False}
    assert isinstance(details.get("outboxPending"), int)
