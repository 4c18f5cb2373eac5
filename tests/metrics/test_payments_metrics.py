"""The payments families: status transitions (counted once committed), Razorpay calls by
operation and outcome, the circuit breaker gauge, and the outbox relay's backlog gauge."""

from __future__ import annotations

import asyncio
import gc
import socket
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
import sqlalchemy as sa
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from shared.db import async_url
from shared.migrations import upgrade_all
from shared.outbox import OutboxRelay, RelayConfig, add_event, outbox_table
from subgraphs.payments import repository as repo
from subgraphs.payments.enums import PaymentStatus
from subgraphs.payments.lifecycle.status import change_status
from subgraphs.payments.provider.circuit import CircuitBreaker
from subgraphs.payments.provider.razorpay import ProviderCallFailed, RazorpayGateway
from tests.conftest import Infra
from tests.helpers import Subgraph, scratch_database, wait_until
from tests.metrics.scrape import Scrape, scrape
from tests.payments.shop import customer_payment, paid
from tests.simulator.support import KEY_ID, KEY_SECRET, Sim

TRANSITIONS = "bff_payment_transitions_total"
RAZORPAY = "bff_razorpay_requests_total"
RAZORPAY_COUNT = "bff_razorpay_request_duration_seconds_count"
CIRCUIT = "bff_circuit_breaker_open"


def moved(before: Scrape, after: Scrape, source: str, target: str) -> float:
    labels = {"from_status": source, "to_status": target}
    return after.value(TRANSITIONS, **labels) - before.value(TRANSITIONS, **labels)


def calls(before: Scrape, after: Scrape, operation: str, outcome: str) -> float:
    labels = {"operation": operation, "outcome": outcome}
    return after.value(RAZORPAY, **labels) - before.value(RAZORPAY, **labels)


async def test_a_checkout_counts_its_transitions_and_razorpay_calls(
    shop: Subgraph, simulator: Sim
) -> None:
    before = await scrape(shop.client)
    await paid(shop, simulator)
    after = await scrape(shop.client)

    assert moved(before, after, "PENDING", "PROCESSING") == 1
    assert moved(before, after, "PROCESSING", "COMPLETED") == 1
    assert calls(before, after, "order.create", "success") == 1
    assert calls(before, after, "payment.fetch", "success") >= 1
    timed = {"operation": "order.create"}
    assert after.value(RAZORPAY_COUNT, **timed) == before.value(RAZORPAY_COUNT, **timed) + 1
    assert after.value(CIRCUIT, circuit="razorpay") == 0


async def test_a_transition_rolled_back_is_not_counted(
    shop: Subgraph, committed_engine: AsyncEngine
) -> None:
    customer, _, payment_id = await customer_payment(shop)
    before = await scrape(shop.client)
    async with async_sessionmaker(committed_engine)() as session:
        payment = await repo.get_payment(
            session=session, payment_id=uuid.UUID(payment_id), for_update=True
        )
        assert payment is not None
        await change_status(
            session=session,
            payment=payment,
            target=PaymentStatus.CANCELLED,
            actor_id=customer.id,
            now=payment.created_at,
        )
        await session.rollback()
    after = await scrape(shop.client)
    assert moved(before, after, "PENDING", "CANCELLED") == 0


async def test_failures_outcomes_and_the_circuit_gauge(
    shop: Subgraph, simulator: Sim, faults: Callable[..., None]
) -> None:
    breaker = CircuitBreaker(name="razorpay", failure_threshold=1, reset_timeout_s=0.0)
    gateway = RazorpayGateway(
        key_id=KEY_ID,
        key_secret=KEY_SECRET,
        base_url=simulator.url,
        timeout_s=5.0,
        max_attempts=1,
        breaker=breaker,
    )
    try:
        before = await scrape(shop.client)
        faults("error500", count=None)
        with pytest.raises(ProviderCallFailed) as failed:
            await gateway.fetch_payment("pay_" + "M" * 14)
        opened = await scrape(shop.client)
        faults("none")
        # Half-open at once (no cool-down): the trial call is a 4xx, which closes the circuit.
        with pytest.raises(ProviderCallFailed) as declined:
            await gateway.fetch_payment("pay_" + "N" * 14)
        closed = await scrape(shop.client)
    finally:
        gateway.close()

    assert failed.value.reason == "server_error"
    assert declined.value.reason == "bad_request"
    assert calls(before, opened, "payment.fetch", "server_error") == 1
    assert opened.value(CIRCUIT, circuit="razorpay") == 1
    assert calls(opened, closed, "payment.fetch", "bad_request") == 1
    assert closed.value(CIRCUIT, circuit="razorpay") == 0


async def test_an_open_circuit_counts_calls_it_refused(shop: Subgraph, simulator: Sim) -> None:
    breaker = CircuitBreaker(name="razorpay", failure_threshold=1, reset_timeout_s=3600.0)
    gateway = RazorpayGateway(
        key_id=KEY_ID,
        key_secret=KEY_SECRET,
        base_url=simulator.url,
        max_attempts=1,
        breaker=breaker,
    )
    breaker.record_failure()
    before = await scrape(shop.client)
    with pytest.raises(ProviderCallFailed) as refused:
        await gateway.fetch_payment("pay_" + "P" * 14)
    after = await scrape(shop.client)
    gateway.close()

    assert refused.value.reason == "circuit_open"
    assert calls(before, after, "payment.fetch", "circuit_open") == 1
    # Nothing was sent: no duration observed.
    timed = {"operation": "payment.fetch"}
    assert after.value(RAZORPAY_COUNT, **timed) == before.value(RAZORPAY_COUNT, **timed)
    assert after.value(CIRCUIT, circuit="razorpay") == 1


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def own_outbox(infra: Infra) -> AsyncIterator[AsyncEngine]:
    """A migrated database of its own: the session's running auth app relays every auth outbox
    row of the shared database at once, and this test needs one that stays unpublished."""
    async with scratch_database(infra.database_url, "backlog") as url:
        await asyncio.to_thread(upgrade_all, url)
        engine = create_async_engine(async_url(url), poolclass=NullPool)
        try:
            yield engine
        finally:
            await engine.dispose()


async def test_the_relay_reports_its_backlog(shop: Subgraph, own_outbox: AsyncEngine) -> None:
    """A relay that cannot reach Redis keeps the rows and reports how many wait."""
    sessionmaker = async_sessionmaker(own_outbox)
    table = outbox_table("auth")
    unpublished = (
        sa.select(sa.func.count()).select_from(table).where(table.c.published_at.is_(None))
    )
    async with sessionmaker() as session, session.begin():
        event_id = await add_event(
            session, schema="auth", type="test:metrics:pending", actor_id=None, data={}
        )
    dead_redis = Redis(port=closed_port(), socket_connect_timeout=1, socket_timeout=1)
    relay = OutboxRelay(
        schema="auth",
        sessionmaker=sessionmaker,
        redis=dead_redis,
        listen_dsn=None,
        config=RelayConfig(
            poll_interval=0.05, backoff_initial=0.01, backoff_max=0.05, pending_interval=0.0
        ),
    )

    async def reported() -> int | None:
        scraped = await scrape(shop.client)
        if not scraped.has("bff_outbox_pending", service="auth"):
            return None
        return int(scraped.value("bff_outbox_pending", service="auth"))

    async def direct() -> int:
        async with sessionmaker() as session:
            return int((await session.execute(unpublished)).scalar_one())

    seen: list[tuple[int | None, int]] = []

    async def in_step(changed_from: int | None = None) -> bool:
        # Both sides read afresh each time: other tests' rows in the shared outbox may come and go.
        now_reported, now_direct = await reported(), await direct()
        seen.append((now_reported, now_direct))
        return now_reported == now_direct and now_reported != changed_from

    await relay.start()
    try:
        assert await direct() >= 1
        try:
            await wait_until(in_step, message="backlog not reported")
        except AssertionError as failed:
            raise AssertionError(f"{failed}; last (reported, counted): {seen[-5:]}") from None
        before = await direct()
        async with sessionmaker() as session, session.begin():
            await session.execute(sa.delete(table).where(table.c.id == event_id))
        try:
            await wait_until(lambda: in_step(before), message="backlog not refreshed")
        except AssertionError as failed:
            raise AssertionError(f"{failed}; last (reported, counted): {seen[-5:]}") from None
    finally:
        await relay.stop()
        await dead_redis.aclose()
        async with sessionmaker() as session, session.begin():
            await session.execute(sa.delete(table).where(table.c.id == event_id))


async def test_the_circuit_gauge_forgets_a_breaker_that_is_gone(shop: Subgraph) -> None:
    breaker = CircuitBreaker(name="razorpay", failure_threshold=1, reset_timeout_s=3600.0)
    breaker.record_failure()
    opened = await scrape(shop.client)
    del breaker
    gc.collect()
    gone = await scrape(shop.client)
    assert opened.value(CIRCUIT, circuit="razorpay") == 1
    assert gone.value(CIRCUIT, circuit="razorpay") == 0
