"""The consumer framework (`shared.consumers`) with the admin `audit` consumer: catching up after
being stopped, exactly once in effect across redeliveries, retries, the dead-letter stream."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import orjson
import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from devtools.embedded import EmbeddedRedis
from shared.consumers import ConsumerRunner, Event, MalformedEvent
from shared.dead_letters import dead_letters, replay_dead_letter
from shared.errors import BadUserInput
from shared.outbox import SERVICES, OutboxRelay
from subgraphs.admin.consumers import AUDIT, resource_of
from tests.events.conftest import wait_for
from tests.events.support import audit_counts, write_events


def envelope(type: str = "admin:user:updated", **data: object) -> dict[str, str]:
    return {
        "id": str(uuid.uuid4()),
        "type": type,
        "occurredAt": datetime.now(UTC).isoformat(),
        "actorId": str(uuid.uuid4()),
        "data": orjson.dumps(data or {"userId": str(uuid.uuid4())}).decode(),
    }


async def publish_all(relays: dict[str, OutboxRelay]) -> None:
    for relay in relays.values():
        await relay.drain()


async def processed(engine: AsyncEngine, consumer: str, ids: list[uuid.UUID]) -> int:
    async with engine.connect() as conn:
        count = await conn.scalar(
            text(
                "SELECT count(*) FROM admin.processed_events "
                "WHERE consumer = :c AND event_id = ANY(:ids)"
            ),
            {"c": consumer, "ids": ids},
        )
    return int(count or 0)


async def test_a_stopped_consumer_catches_up_on_restart_applying_each_event_once(
    engine: AsyncEngine,
    rd: Redis,
    make_relay: Callable[..., OutboxRelay],
    make_runner: Callable[..., ConsumerRunner],
) -> None:
    relays = {s: make_relay(s) for s in SERVICES}
    first = [*await write_events(engine, "auth", 3), *await write_events(engine, "payments", 2)]
    await publish_all(relays)

    runner = make_runner(AUDIT)
    await runner.start()

    async def first_applied() -> bool:
        return set((await audit_counts(engine, first)).values()) == {1}

    await wait_for(first_applied)
    task = runner._task
    await runner.stop()  # the consumer is down while every service keeps producing

    async def down() -> bool:
        # stop() gives up waiting after 5 s (shared.tasks): on a loaded machine the task may
        # still be finishing; "down" is the task being done, not stop() having returned.
        return task is None or task.done()

    await wait_for(down)

    during: list[uuid.UUID] = []
    for schema in SERVICES:
        during += await write_events(engine, schema, 4)
    await publish_all(relays)
    assert set((await audit_counts(engine, during)).values()) == {0}

    # A process that read some entries and died before acknowledging them.
    taken = await rd.xreadgroup(AUDIT.group, "crashed-process", {"events:admin": ">"}, count=2)
    assert len(taken[0][1]) == 2
    # ... one of which it had even applied (committed, not yet acknowledged).
    entry_id, fields = taken[0][1][0]
    assert await runner._apply(Event.parse("events:admin", entry_id, fields)) is True

    restarted = make_runner(AUDIT)  # a new process: a new consumer name, the group's position
    assert restarted.name != runner.name
    await restarted.start()
    try:

        async def all_applied() -> bool:
            counts = await audit_counts(engine, [*first, *during])
            return set(counts.values()) == {1}

        await wait_for(all_applied)

        async def nothing_pending() -> bool:
            # Every stream: an entry is acknowledged only after the runner has counted it, so
            # this (not the committed audit rows above) says the runner is done with them all.
            # Stopping it while it still closed the last entry's connection lost that count.
            for stream in AUDIT.streams:
                if int((await rd.xpending(stream, AUDIT.group))["pending"]):
                    return False
            return True

        await wait_for(nothing_pending)
    finally:
        await restarted.stop()
    counts = await audit_counts(engine, [*first, *during])
    assert set(counts.values()) == {1}  # exactly once each, the pre-applied one included
    assert restarted.applied == len(during) - 1
    assert await processed(engine, AUDIT.group, [*first, *during]) == len(first) + len(during)


async def test_the_audit_entry_carries_the_event(
    engine: AsyncEngine, rd: Redis, make_runner: Callable[..., ConsumerRunner]
) -> None:
    user_id, payment_id = str(uuid.uuid4()), str(uuid.uuid4())
    login = envelope("auth:user:logged_in", userId=user_id, sessionId="s", ip="203.0.113.7")
    paid = envelope("payments:payment:completed", paymentId=payment_id, status="COMPLETED")
    config = envelope("admin:config:updated", key="payments.enabled_currencies", value=["INR"])
    await rd.xadd("events:auth", login)  # type: ignore[arg-type]
    await rd.xadd("events:payments", paid)  # type: ignore[arg-type]
    await rd.xadd("events:admin", config)  # type: ignore[arg-type]
    runner = make_runner(AUDIT)
    assert await runner.drain() == 3
    async with engine.connect() as conn:
        rows = {
            r.action: r
            for r in await conn.execute(
                text(
                    "SELECT action, actor_id, resource_type, resource_id, details, ip_address, "
                    "created_at FROM admin.audit_logs WHERE event_id = ANY(:ids)"
                ),
                {"ids": [uuid.UUID(e["id"]) for e in (login, paid, config)]},
            )
        }
    entry = rows["auth:user:logged_in"]
    assert (entry.resource_type, entry.resource_id, entry.ip_address) == (
        "user",
        user_id,
        "203.0.113.7",
    )
    assert str(entry.actor_id) == login["actorId"]
    assert entry.details == {"userId": user_id, "sessionId": "s", "ip": "203.0.113.7"}
    assert entry.created_at == datetime.fromisoformat(login["occurredAt"])
    assert (
        rows["payments:payment:completed"].resource_type,
        rows["payments:payment:completed"].resource_id,
    ) == ("payment", payment_id)
    assert (
        rows["admin:config:updated"].resource_type,
        rows["admin:config:updated"].resource_id,
    ) == ("config", "payments.enabled_currencies")


def test_resources_of_unknown_event_families() -> None:
    def event(type: str, **data: object) -> Event:
        return Event(uuid.uuid4(), type, datetime.now(UTC), None, dict(data))

    assert resource_of(event("auth:password:changed", userId="u")) == ("user", "u")
    assert resource_of(event("payments:verification:attempted", paymentId="p")) == ("payment", "p")
    assert resource_of(event("x:widget:made", widgetId="w")) == ("widget", "w")
    assert resource_of(event("x:widget:made", userId="u")) == ("widget", "u")
    assert resource_of(event("odd")) == (None, None)


async def test_a_poison_event_is_retried_then_parked_and_acknowledged(
    engine: AsyncEngine,
    rd: Redis,
    make_runner: Callable[..., ConsumerRunner],
    caplog: pytest.LogCaptureFixture,
) -> None:
    poison = envelope("admin:" + "x" * 70)  # longer than audit_logs.action allows: always fails
    fine = envelope()
    await rd.xadd("events:admin", poison)  # type: ignore[arg-type]
    await rd.xadd("events:admin", fine)  # type: ignore[arg-type]
    runner = make_runner(AUDIT)  # max_attempts=3, retries after 50 ms, 100 ms

    with caplog.at_level(logging.WARNING, logger="bff.consumers"):

        async def parked() -> bool:
            await runner.run_once(block_ms=20)
            return runner.parked == 1

        await wait_for(parked)
    retries = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(retries) == 2  # attempts 1 and 2 failed; the third parks it
    assert await audit_counts(engine, [uuid.UUID(poison["id"]), uuid.UUID(fine["id"])]) == {
        poison["id"]: 0,
        fine["id"]: 1,  # the event behind it was not held up
    }
    assert int((await rd.xpending("events:admin", AUDIT.group))["pending"]) == 0

    page = await dead_letters(rd, first=10)
    [letter] = [x for x in page.letters if x.event_id == poison["id"]]
    assert (letter.consumer, letter.stream, letter.attempts) == ("admin:audit", "events:admin", 3)
    assert letter.error_type
    assert letter.type == poison["type"]
    assert letter.event == poison

    # Replay: back on its stream (the dead letter goes); failing again parks it again.
    new_id = await replay_dead_letter(rd, letter.entry_id)
    assert new_id is not None
    assert (await rd.xrange("events:admin", min=new_id, max=new_id))[0][1] == poison
    assert [x.entry_id for x in (await dead_letters(rd)).letters] == []
    assert await replay_dead_letter(rd, letter.entry_id) is None


async def test_malformed_entries_are_parked_at_once(
    rd: Redis, make_runner: Callable[..., ConsumerRunner]
) -> None:
    await rd.xadd("events:profile", {"hello": "world"})
    bad_actor = envelope()
    bad_actor["actorId"] = "not-a-uuid"
    await rd.xadd("events:profile", bad_actor)  # type: ignore[arg-type]
    not_an_object = envelope()
    not_an_object["data"] = "[1, 2]"
    await rd.xadd("events:profile", not_an_object)  # type: ignore[arg-type]
    runner = make_runner(AUDIT)
    assert await runner.drain() == 3
    page = await dead_letters(rd, first=2)
    assert [x.error_type for x in page.letters] == ["MalformedEvent", "MalformedEvent"]
    assert [x.attempts for x in page.letters] == [1, 1]
    assert page.has_next_page
    assert page.total_count == 3
    rest = await dead_letters(rd, first=2, after=page.end_cursor)
    assert rest.letters[0].event == {"hello": "world"}
    assert not rest.has_next_page
    with pytest.raises(MalformedEvent):
        Event.parse("s", "1-0", {"hello": "world"})


@pytest.mark.parametrize(("first", "after"), [(0, None), (101, None), (5, "nope")])
async def test_dead_letters_refuses_bad_page_arguments(
    rd: Redis, first: int, after: str | None
) -> None:
    with pytest.raises(BadUserInput):
        await dead_letters(rd, first=first, after=after)


async def test_events_of_other_types_are_acknowledged_without_being_recorded(
    engine: AsyncEngine, rd: Redis, make_runner: Callable[..., ConsumerRunner]
) -> None:
    only_deletions = dataclasses.replace(
        AUDIT, name=f"only-{uuid.uuid4().hex[:6]}", types=frozenset({"admin:user:deleted"})
    )
    other = envelope("admin:user:updated")
    await rd.xadd("events:admin", other)  # type: ignore[arg-type]
    runner = make_runner(only_deletions)
    assert await runner.drain() == 1
    assert (runner.processed, runner.applied) == (1, 0)
    assert await processed(engine, only_deletions.group, [uuid.UUID(other["id"])]) == 0
    assert int((await rd.xpending("events:admin", only_deletions.group))["pending"]) == 0


async def test_the_consumer_rides_out_a_redis_outage(
    engine: AsyncEngine,
    own_redis: EmbeddedRedis,
    rd: Redis,
    make_runner: Callable[..., ConsumerRunner],
    caplog: pytest.LogCaptureFixture,
) -> None:
    runner = make_runner(AUDIT)
    with caplog.at_level(logging.INFO, logger="bff.consumers"):
        await runner.start()
        try:
            own_redis.stop()

            async def noticed() -> bool:
                return any("cannot read events" in r.getMessage() for r in caplog.records)

            await wait_for(noticed)  # the outage was seen, however slow the machine
            own_redis.start()
            event = envelope()
            await rd.xadd("events:auth", event)  # type: ignore[arg-type]

            async def applied() -> bool:
                return (await audit_counts(engine, [uuid.UUID(event["id"])]))[event["id"]] == 1

            await wait_for(applied)

            async def recovered() -> bool:  # logged after the pass that applied the event
                return any("reading again" in r.getMessage() for r in caplog.records)

            await wait_for(recovered)
        finally:
            await runner.stop()
    messages = [r.getMessage() for r in caplog.records]
    assert messages.count("event consumer: cannot read events; retrying") == 1
    assert "event consumer: reading again" in messages
