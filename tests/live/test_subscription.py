"""`Subscription.paymentUpdated` over a real WebSocket (graphql-transport-ws, as the router speaks
it) against two payments processes sharing one database and one Redis."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from websockets.exceptions import ConnectionClosed

from shared.context import revoked_user_key
from shared.scopes import Role
from subgraphs.payments import repository as repo
from subgraphs.payments.enums import PaymentStatus
from subgraphs.payments.lifecycle import status as lifecycle
from subgraphs.payments.live.pubsub import encode_update, payment_channel
from tests.helpers import ROUTER_SECRET, Caller
from tests.live.conftest import Replicas
from tests.live.processes import GraphQLWs, PaymentsProcess, init_payload

log = logging.getLogger("tests.live")

SUBSCRIBE = """subscription Watch($id: ID!) {
  paymentUpdated(id: $id) { id status updatedAt transactions { kind } } }"""
CREATE = "mutation C($input: CreatePaymentInput!) { createPayment(input: $input) { id status } }"
CANCEL = "mutation X($id: ID!) { cancelPayment(id: $id) { id status updatedAt } }"


async def create_payment(replicas: Replicas, customer: Caller, payee: Caller) -> str:
    await replicas.register(payee)  # a payee must be a VENDOR auth knows
    result = await replicas.gql(
        replicas.b,
        CREATE,
        {"input": {"amount": "25.00", "currency": "INR", "payeeId": str(payee.id)}},
        as_=customer,
    )
    assert "errors" not in result, result
    payment_id: str = result["data"]["createPayment"]["id"]
    return payment_id


async def watch(
    process: PaymentsProcess, caller: Caller | None, payment_id: str, op: str = "1"
) -> GraphQLWs:
    ws = await GraphQLWs.open(
        process.ws_url, init_payload(ROUTER_SECRET, caller.token if caller else None)
    )
    await ws.acknowledged()
    await ws.subscribe(op, SUBSCRIBE, {"id": payment_id}, ROUTER_SECRET)
    return ws


async def wait_subscribed(redis: Redis, payment_id: str, count: int) -> None:
    async with asyncio.timeout(30):
        while True:
            [(_, subscribed)] = await redis.pubsub_numsub(payment_channel(payment_id))
            if subscribed >= count:
                return
            await asyncio.sleep(0.01)


async def next_payment(ws: GraphQLWs, op: str = "1", timeout: float = 5.0) -> dict[str, Any]:
    message = await ws.receive(timeout)
    assert message["type"] == "next", message
    assert message["id"] == op
    assert "errors" not in message["payload"], message
    payment: dict[str, Any] = message["payload"]["data"]["paymentUpdated"]
    return payment


async def error_codes_of(ws: GraphQLWs, op: str = "1") -> list[str]:
    """The codes of an operation that fails at subscribe time (an `error` message)."""
    message = await ws.receive()
    assert message["type"] == "error", message
    assert message["id"] == op
    return [e["extensions"]["code"] for e in message["payload"]]


async def move_to_processing(session: AsyncSession, payment_id: str) -> float:
    """A committed status change made by neither process; returns when it was committed."""
    payment = await repo.get_payment(
        session=session, payment_id=uuid.UUID(payment_id), for_update=True
    )
    assert payment is not None
    await lifecycle.change_status(
        session=session,
        payment=payment,
        target=PaymentStatus.PROCESSING,
        actor_id=None,
        now=datetime.now(UTC),
    )
    await session.commit()
    return time.perf_counter()


async def test_updates_reach_subscribers_of_every_replica(
    replicas: Replicas, redis: Redis, committed: AsyncSession
) -> None:
    customer, vendor, admin = (replicas.caller(r) for r in (Role.CUSTOMER, Role.VENDOR, Role.ADMIN))
    payment_id = await create_payment(replicas, customer, vendor)
    payer_ws = await watch(replicas.a, customer, payment_id)
    payee_ws = await watch(replicas.b, vendor, payment_id)
    admin_ws = await watch(replicas.a, admin, payment_id)
    sockets = (payer_ws, payee_ws, admin_ws)
    try:
        await wait_subscribed(redis, payment_id, 2)  # one listener per replica, not per socket

        # 1. Committed by a third writer (a webhook or reconciliation would look like this).
        committed_at = await move_to_processing(committed, payment_id)
        first = [await next_payment(ws) for ws in sockets]
        latency = time.perf_counter() - committed_at
        assert latency < 10.0  # delivered at all, promptly; speed is the benchmark's to measure
        for payment in first:
            assert (payment["id"], payment["status"]) == (payment_id, "PROCESSING")
            assert [t["kind"] for t in payment["transactions"]] == ["CREATE", "STATUS_CHANGE"]

        # 2. A mutation served by replica B; the subscriber on A hears it.
        result = await replicas.gql(replicas.b, CANCEL, {"id": payment_id}, as_=customer)
        committed_at = time.perf_counter()  # the mutation answers after its commit
        assert result["data"]["cancelPayment"]["status"] == "CANCELLED"
        second = await next_payment(payer_ws)
        latency_b = time.perf_counter() - committed_at
        assert latency_b < 10.0
        assert second["status"] == "CANCELLED"
        assert second["updatedAt"] == result["data"]["cancelPayment"]["updatedAt"]
        assert [t["kind"] for t in second["transactions"]] == [
            "CREATE",
            "STATUS_CHANGE",
            "STATUS_CHANGE",
        ]  # fresh: nothing cached from the first event
        for ws in (payee_ws, admin_ws):
            assert (await next_payment(ws))["status"] == "CANCELLED"
        log.info("commit -> client: %.1f ms, %.1f ms", latency * 1000, latency_b * 1000)

        # The clients end their subscriptions: replica A unsubscribes once its last one ended.
        await payer_ws.complete("1")
        await asyncio.sleep(0.2)
        assert (await redis.pubsub_numsub(payment_channel(payment_id)))[0][1] == 2
        await admin_ws.complete("1")
        async with asyncio.timeout(5):
            while (await redis.pubsub_numsub(payment_channel(payment_id)))[0][1] != 1:
                await asyncio.sleep(0.01)
    finally:
        for ws in sockets:
            await ws.close()


async def test_a_change_just_before_subscribing_is_not_missed(
    replicas: Replicas, redis: Redis, committed: AsyncSession
) -> None:
    customer, vendor = replicas.caller(Role.CUSTOMER), replicas.caller(Role.VENDOR)
    payment_id = await create_payment(replicas, customer, vendor)
    ws = await watch(replicas.a, customer, payment_id)
    try:
        # Possibly before the subscription has subscribed to Redis: it re-reads once subscribed.
        await move_to_processing(committed, payment_id)
        assert (await next_payment(ws))["status"] == "PROCESSING"
        await wait_subscribed(redis, payment_id, 1)
        # A repeated announcement (at-least-once delivery) pushes nothing twice.
        await redis.publish(
            payment_channel(payment_id),
            encode_update(event_id=uuid.uuid4(), payment_id=payment_id, type="payments:x"),
        )
        with pytest.raises(TimeoutError):
            await ws.receive(timeout=0.5)
    finally:
        await ws.close()


async def test_strangers_unknown_ids_and_missing_scopes_are_refused(replicas: Replicas) -> None:
    customer, vendor = replicas.caller(Role.CUSTOMER), replicas.caller(Role.VENDOR)
    payment_id = await create_payment(replicas, customer, vendor)
    stranger = replicas.caller(Role.CUSTOMER)
    ws = await watch(replicas.a, stranger, payment_id)
    try:
        assert await error_codes_of(ws) == ["NOT_FOUND"]
        await ws.subscribe("2", SUBSCRIBE, {"id": str(uuid.uuid4())}, ROUTER_SECRET)
        assert await error_codes_of(ws, "2") == ["NOT_FOUND"]
        await ws.subscribe("3", SUBSCRIBE, {"id": "not-a-uuid"}, ROUTER_SECRET)
        assert await error_codes_of(ws, "3") == ["BAD_USER_INPUT"]
    finally:
        await ws.close()

    unscoped = replicas.caller(Role.CUSTOMER, user_id=customer.id, scopes=frozenset())
    ws = await watch(replicas.a, unscoped, payment_id)
    try:
        assert await error_codes_of(ws) == ["FORBIDDEN"]  # no payments:read
    finally:
        await ws.close()


async def test_anonymous_subscribers_are_unauthenticated(replicas: Replicas) -> None:
    customer, vendor = replicas.caller(Role.CUSTOMER), replicas.caller(Role.VENDOR)
    payment_id = await create_payment(replicas, customer, vendor)
    anonymous = await watch(replicas.a, None, payment_id)
    try:
        assert await error_codes_of(anonymous) == ["UNAUTHENTICATED"]
    finally:
        await anonymous.close()


async def test_a_bad_token_is_unauthenticated(replicas: Replicas) -> None:
    customer, vendor = replicas.caller(Role.CUSTOMER), replicas.caller(Role.VENDOR)
    payment_id = await create_payment(replicas, customer, vendor)
    forged = Caller(id=customer.id, role=Role.CUSTOMER, token=customer.token[:-4] + "AAAA")
    bad = await watch(replicas.a, forged, payment_id)
    try:
        message = await bad.receive()
        assert message["type"] in ("error", "next"), message
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert [e["extensions"]["code"] for e in errors] == ["UNAUTHENTICATED"]
    finally:
        await bad.close()


async def test_without_the_router_credential_the_connection_is_refused(
    replicas: Replicas,
) -> None:
    customer = replicas.caller(Role.CUSTOMER)
    for secret in (None, "not-the-router-secret"):
        ws = await GraphQLWs.open(replicas.a.ws_url, init_payload(secret, customer.token))
        with pytest.raises(ConnectionClosed) as closed:
            await ws.receive()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4403
        await ws.close()


async def test_the_subscription_ends_when_the_token_expires(replicas: Replicas) -> None:
    customer, vendor = replicas.caller(Role.CUSTOMER), replicas.caller(Role.VENDOR)
    payment_id = await create_payment(replicas, customer, vendor)
    token, _ = replicas.keys.issue(
        user_id=str(customer.id),
        email="short@example.com",
        role=Role.CUSTOMER.value,
        scopes={"payments:read"},
        issuer=replicas.settings.jwt_issuer,
        audience=replicas.settings.jwt_audience,
        ttl_seconds=2,
        session_id=uuid.uuid4().hex,
    )
    ws = await watch(replicas.a, Caller(customer.id, Role.CUSTOMER, token), payment_id)
    try:
        message = await ws.receive(timeout=5)
        assert message["type"] == "next", message
        assert [e["extensions"]["code"] for e in message["payload"]["errors"]] == [
            "UNAUTHENTICATED"
        ]
        assert (await ws.receive())["type"] == "complete"
    finally:
        await ws.close()


async def test_a_revoked_token_stops_receiving(
    replicas: Replicas, redis: Redis, committed: AsyncSession
) -> None:
    customer, vendor = replicas.caller(Role.CUSTOMER), replicas.caller(Role.VENDOR)
    payment_id = await create_payment(replicas, customer, vendor)
    ws = await watch(replicas.b, customer, payment_id)
    try:
        await wait_subscribed(redis, payment_id, 1)
        # What changePassword / deleteUser do: every token issued until now is revoked.
        await redis.set(revoked_user_key(customer.id), int(time.time()) + 1, ex=60)
        await move_to_processing(committed, payment_id)
        message = await ws.receive()
        assert message["type"] == "next", message
        assert [e["extensions"]["code"] for e in message["payload"]["errors"]] == [
            "UNAUTHENTICATED"
        ]
        assert (await ws.receive())["type"] == "complete"
    finally:
        await ws.close()


async def test_fields_resolved_per_event_leave_no_session_open(
    replicas: Replicas, redis: Redis, committed: AsyncSession
) -> None:
    customer, vendor = replicas.caller(Role.CUSTOMER), replicas.caller(Role.VENDOR)
    payment_id = await create_payment(replicas, customer, vendor)
    ws = await GraphQLWs.open(replicas.a.ws_url, init_payload(ROUTER_SECRET, customer.token))
    try:
        await ws.acknowledged()
        # `payer.payments` reads through the connection's context (its loaders and session).
        query = """subscription W($id: ID!) { paymentUpdated(id: $id) {
          status payer { id payments(first: 1) { totalCount } } } }"""
        await ws.subscribe("1", query, {"id": payment_id}, ROUTER_SECRET)
        await wait_subscribed(redis, payment_id, 1)
        await move_to_processing(committed, payment_id)
        payment = await next_payment(ws)
        assert payment["status"] == "PROCESSING"
        assert payment["payer"]["payments"]["totalCount"] >= 1
        await asyncio.sleep(0.2)
        idle = await committed.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE application_name = 'payments' AND state = 'idle in transaction'"
            )
        )
        assert idle == 0
    finally:
        await ws.close()
