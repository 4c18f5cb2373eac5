"""Subscriptions cannot starve each other: limits per connection and per user (across replicas),
and a constant number of Redis connections per process however many subscribers it serves.
Real payments processes, real graphql-transport-ws clients."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from devtools.embedded import EmbeddedRedis
from shared.scopes import Role
from subgraphs.payments.live.slots import slots_key
from tests.conftest import Infra
from tests.helpers import ROUTER_SECRET, Caller
from tests.live.conftest import Replicas
from tests.live.processes import (
    GraphQLWs,
    JwksServer,
    PaymentsProcess,
    init_payload,
    start_ready,
)
from tests.live.test_subscription import (
    SUBSCRIBE,
    create_payment,
    move_to_processing,
    next_payment,
    wait_subscribed,
)

PER_CONNECTION, PER_USER = 20, 50


async def connect(process: PaymentsProcess, caller: Caller) -> GraphQLWs:
    ws = await GraphQLWs.open(process.ws_url, init_payload(ROUTER_SECRET, caller.token))
    await ws.acknowledged()
    return ws


async def subscribe_many(ws: GraphQLWs, payment_id: str, ops: range) -> None:
    for op in ops:
        await ws.subscribe(str(op), SUBSCRIBE, {"id": payment_id}, ROUTER_SECRET)


async def slots_held(redis: Redis, user: Caller, count: int) -> None:
    """Wait until the user holds exactly `count` subscription slots: every subscribe sent so far
    has been handled (a slot is taken once the subscription is accepted, and freed when it ends).
    """
    async with asyncio.timeout(60):
        while await redis.zcard(slots_key(user.id)) != count:
            await asyncio.sleep(0.02)


async def refused(ws: GraphQLWs, op: str) -> dict[str, Any]:
    """The `error` message of an operation refused at subscribe time (others may interleave
    nothing: the connection's other subscriptions saw no change)."""
    message = await ws.receive()
    assert message["type"] == "error", message
    assert message["id"] == op
    [error] = message["payload"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["retryAfter"] >= 1
    return message


async def test_the_21st_subscription_on_a_connection_is_rate_limited(
    replicas: Replicas, redis: Redis, committed: AsyncSession
) -> None:
    customer, vendor = replicas.caller(Role.CUSTOMER), replicas.caller(Role.VENDOR)
    payment_id = await create_payment(replicas, customer, vendor)
    ws = await connect(replicas.a, customer)
    try:
        await subscribe_many(ws, payment_id, range(1, PER_CONNECTION + 1))
        await wait_subscribed(redis, payment_id, 1)
        await slots_held(redis, customer, PER_CONNECTION)  # every subscribe handled
        await ws.subscribe("21", SUBSCRIBE, {"id": payment_id}, ROUTER_SECRET)
        await refused(ws, "21")
        # The twenty keep working.
        await move_to_processing(committed, payment_id)
        pushed = {}
        for _ in range(PER_CONNECTION):
            message = await ws.receive()
            assert message["type"] == "next", message
            pushed[message["id"]] = message["payload"]["data"]["paymentUpdated"]["status"]
        assert pushed == {str(op): "PROCESSING" for op in range(1, PER_CONNECTION + 1)}
        # Ending one frees its place on the connection.
        await ws.complete("1")
        await slots_held(redis, customer, PER_CONNECTION - 1)
        await ws.subscribe("22", SUBSCRIBE, {"id": payment_id}, ROUTER_SECRET)
        await slots_held(redis, customer, PER_CONNECTION)
        with pytest.raises(TimeoutError):
            await ws.receive(timeout=0.5)  # accepted: nothing to push, no error
    finally:
        await ws.close()


async def test_one_user_at_the_maximum_does_not_starve_another(
    replicas: Replicas, redis: Redis, committed: AsyncSession
) -> None:
    greedy, vendor = replicas.caller(Role.CUSTOMER), replicas.caller(Role.VENDOR)
    greedy_payment = await create_payment(replicas, greedy, vendor)
    # 50 subscriptions on three connections and both replicas: 20 + 20 + 10.
    sockets = [await connect(p, greedy) for p in (replicas.a, replicas.b, replicas.a)]
    other_ws: GraphQLWs | None = None
    try:
        for ws, ops in zip(sockets, (range(1, 21), range(21, 41), range(41, 51)), strict=True):
            await subscribe_many(ws, greedy_payment, ops)
        await slots_held(redis, greedy, PER_USER)
        await sockets[2].subscribe("51", SUBSCRIBE, {"id": greedy_payment}, ROUTER_SECRET)
        await refused(sockets[2], "51")
        fourth = await connect(replicas.b, greedy)
        sockets.append(fourth)
        await fourth.subscribe("52", SUBSCRIBE, {"id": greedy_payment}, ROUTER_SECRET)
        await refused(fourth, "52")  # per user, whatever the connection or replica

        other, other_vendor = replicas.caller(Role.CUSTOMER), replicas.caller(Role.VENDOR)
        other_payment = await create_payment(replicas, other, other_vendor)
        other_ws = await connect(replicas.a, other)
        await other_ws.subscribe("1", SUBSCRIBE, {"id": other_payment}, ROUTER_SECRET)
        await wait_subscribed(redis, other_payment, 1)
        await move_to_processing(committed, other_payment)
        assert (await next_payment(other_ws))["status"] == "PROCESSING"
    finally:
        for ws in sockets:
            await ws.close()
        if other_ws is not None:
            await other_ws.close()


@pytest.fixture
async def lone_process(
    infra: Infra, jwks: JwksServer, own_redis: EmbeddedRedis
) -> AsyncIterator[PaymentsProcess]:
    """A payments process alone on a Redis of its own: every client there is its own (or the
    test's, named `test`)."""
    env = {
        "APP_ENV": "test",
        "DATABASE_URL": infra.database_url,
        "REDIS_URL": f"unix://{own_redis.socket}",
        "ROUTER_HMAC_SECRET": ROUTER_SECRET,
        "AUTH_JWKS_URL": jwks.url,
        "LOG_LEVEL": "WARNING",
        "RECONCILE_INTERVAL_SECONDS": "0",
        "LIVE_UPDATES_REDIS_MAX_CONNECTIONS": "2",
    }
    process = await start_ready("payments-lone", env, infra.data_dir / "live-logs")
    try:
        yield process
    finally:
        process.stop()


async def process_connections(redis: Redis) -> int:
    return sum(1 for c in await redis.client_list() if c.get("name") != "test")


async def test_redis_connections_stay_constant_from_1_to_100_subscribers(
    replicas: Replicas,
    lone_process: PaymentsProcess,
    own_redis: EmbeddedRedis,
    committed: AsyncSession,
) -> None:
    own = Redis.from_url(f"unix://{own_redis.socket}", decode_responses=True, client_name="test")
    users = [replicas.caller(Role.CUSTOMER) for _ in range(5)]
    payments = [await create_payment(replicas, u, replicas.caller(Role.VENDOR)) for u in users]
    sockets: list[GraphQLWs] = []
    try:
        # One subscriber, one update delivered.
        sockets.append(await connect(lone_process, users[0]))
        await sockets[0].subscribe("1", SUBSCRIBE, {"id": payments[0]}, ROUTER_SECRET)
        await wait_subscribed(own, payments[0], 1)
        await move_to_processing(committed, payments[0])
        await own.publish(f"payments:payment:{payments[0]}", '{"eventId": "x1"}')
        assert (await next_payment(sockets[0]))["status"] == "PROCESSING"
        await asyncio.sleep(0.5)  # parts that connect lazily (consumers, relay) have connected
        with_one = await process_connections(own)
        first_list = await own.client_list()

        # 100 subscribers (5 users x 20 on their own connections), every one pushed an update.
        await subscribe_many(sockets[0], payments[0], range(2, 21))
        for user, payment_id in zip(users[1:], payments[1:], strict=True):
            ws = await connect(lone_process, user)
            sockets.append(ws)
            await subscribe_many(ws, payment_id, range(1, 21))
        # Every subscription has read its payment (a slot is taken right after): a change committed
        # from now on reaches each of them, through the feed's first item or the update.
        async with asyncio.timeout(60):
            for user in users:
                while await own.zcard(slots_key(user.id)) < 20:
                    await asyncio.sleep(0.02)
        for payment_id in payments[1:]:
            await move_to_processing(committed, payment_id)
        for payment_id in payments:
            await own.publish(f"payments:payment:{payment_id}", '{"eventId": "x2"}')
        for ws in sockets[1:]:
            statuses = []
            for _ in range(20):
                message = await ws.receive()
                assert message["type"] == "next", message
                statuses.append(message["payload"]["data"]["paymentUpdated"]["status"])
            assert statuses == ["PROCESSING"] * 20
        with_hundred = await process_connections(own)
        # Constant (one spare for a pooled connection another part may open meanwhile); one
        # pub/sub connection per subscriber would add 99.
        assert with_one <= with_hundred <= with_one + 1, (first_list, await own.client_list())
    finally:
        for ws in sockets:
            await ws.close()
        await own.aclose()
