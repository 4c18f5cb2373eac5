"""Event consumers on Redis Streams consumer groups (the reading side of `shared.outbox`).

A `Consumer` names a handler, the streams it reads and the schema of the service that runs it.
Its group (`<schema>:<name>`) is created once per stream (`XGROUP CREATE ... 0 MKSTREAM`: a new
consumer starts from the oldest entry the stream still holds); every process reads with its own
consumer name (`XREADGROUP ... >`), so a consumer that was down resumes from its group's position.

Exactly once in effect: the handler runs in a transaction that also inserts
`(consumer, event_id)` into `<schema>.processed_events`; an event already recorded is skipped.
The entry is acknowledged (`XACK`) after the commit; a crash in between redelivers it and the
record makes the redelivery a no-op.

Failures: the entry stays pending. Stale pending entries (of this process or of a dead one) are
claimed again (`XPENDING ... IDLE` + `XCLAIM`) once idle for the back-off of their delivery
count (`retry_initial * 2**(attempts-1)`, capped). After `max_attempts` deliveries the entry is
parked in the dead-letter stream `events:dead` (with the consumer, the error type, the attempt
count and the original envelope) and acknowledged. `dead_letters` pages through that stream
(the admin `deadLetters` query); `replay_dead_letter` puts an entry back on its stream.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ResponseError
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.lifetime import Background, Resources
from shared.outbox import SERVICES, Backoff, RelayTask, stream_for
from shared.tasks import raise_if_cancelling, stop_tasks

log = logging.getLogger("bff.consumers")

DEAD_STREAM = "events:dead"
ALL_STREAMS: tuple[str, ...] = tuple(stream_for(s) for s in SERVICES)


class MalformedEvent(ValueError):
    """A stream entry that is not the contract's envelope (parked at once: retrying won't help)."""


@dataclass(frozen=True, slots=True)
class Event:
    """One delivered event: the contract's envelope plus where it was read from."""

    id: uuid.UUID
    type: str
    occurred_at: datetime
    actor_id: uuid.UUID | None
    data: dict[str, Any]
    stream: str = ""
    entry_id: str = ""

    @classmethod
    def parse(cls, stream: str, entry_id: str, fields: Mapping[str, str]) -> Event:
        try:
            data = orjson.loads(fields["data"])
            occurred_at = datetime.fromisoformat(fields["occurredAt"])
            actor = fields.get("actorId") or ""
            event = cls(
                id=uuid.UUID(fields["id"]),
                type=fields["type"],
                occurred_at=occurred_at,
                actor_id=uuid.UUID(actor) if actor else None,
                data=data,
                stream=stream,
                entry_id=entry_id,
            )
        except (KeyError, ValueError, TypeError, orjson.JSONDecodeError) as exc:
            raise MalformedEvent(f"not an event envelope: {type(exc).__name__}") from exc
        if not isinstance(data, dict) or not event.type or occurred_at.tzinfo is None:
            raise MalformedEvent("not an event envelope")
        return event


Handler = Callable[[AsyncSession, Event], Awaitable[None]]
"""Applies one event inside the given transaction (never commits: the runner does)."""


@dataclass(frozen=True)
class Consumer:
    name: str
    schema: str  # the consuming service's schema (its `processed_events` table)
    streams: tuple[str, ...]
    handler: Handler
    types: frozenset[str] | None = None  # None: every type; others are acknowledged, not applied

    @property
    def group(self) -> str:
        return f"{self.schema}:{self.name}"


@dataclass(frozen=True)
class ConsumerConfig:
    batch_size: int = 50
    block_ms: int = 1000
    max_attempts: int = 5
    retry_initial: float = 2.0  # seconds idle before the 2nd attempt; doubles per attempt
    retry_max: float = 300.0
    dead_stream: str = DEAD_STREAM
    dead_maxlen: int = 100_000
    backoff_initial: float = 0.2  # Redis / PostgreSQL unavailable
    backoff_max: float = 10.0

    def retry_delay(self, attempts: int) -> float:
        return float(min(self.retry_initial * 2 ** max(attempts - 1, 0), self.retry_max))


def processed_table(schema: str) -> sa.TableClause:
    return sa.table(
        "processed_events",
        sa.column("consumer", sa.String),
        sa.column("event_id", UUID(as_uuid=True)),
        sa.column("processed_at", sa.DateTime(timezone=True)),
        schema=schema,
    )


def process_consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class ConsumerRunner:
    """Runs one `Consumer` in this process; `start()` runs it in the background."""

    def __init__(
        self,
        consumer: Consumer,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        redis: Redis,
        config: ConsumerConfig | None = None,
        consumer_name: str | None = None,
    ) -> None:
        self.consumer = consumer
        self.sessionmaker = sessionmaker
        self.redis = redis
        self.config = config or ConsumerConfig()
        self.name = consumer_name or process_consumer_name()
        self.processed = self.applied = self.parked = 0
        self._processed = processed_table(consumer.schema)
        self._ready = False
        self._task: asyncio.Task[None] | None = None

    @property
    def group(self) -> str:
        return self.consumer.group

    async def setup(self) -> None:
        for stream in self.consumer.streams:
            try:
                await self.redis.xgroup_create(stream, self.group, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
        self._ready = True

    # -- one pass ------------------------------------------------------------------------------

    async def run_once(self, *, block_ms: int | None = None) -> int:
        """Retry due pending entries, then read new ones (blocking up to `block_ms`)."""
        if not self._ready:
            await self.setup()
        handled = await self.retry_stale()
        streams: dict[Any, Any] = dict.fromkeys(self.consumer.streams, ">")
        batches: Any = await self.redis.xreadgroup(
            self.group, self.name, streams, count=self.config.batch_size, block=block_ms
        )
        for stream, entries in batches or []:
            for entry_id, fields in entries:
                await self.handle(stream, entry_id, fields, attempts=1)
                handled += 1
        return handled

    async def drain(self) -> int:
        """Handle everything available now (new entries; due retries), without blocking."""
        total = 0
        while count := await self.run_once():
            total += count
        return total

    async def retry_stale(self) -> int:
        """Claim and handle pending entries idle for longer than their back-off."""
        handled = 0
        min_idle = int(self.config.retry_delay(1) * 1000)
        for stream in self.consumer.streams:
            pending = await self.redis.xpending_range(
                stream, self.group, min="-", max="+", count=self.config.batch_size, idle=min_idle
            )
            for item in pending:
                attempts = int(item["times_delivered"])
                due = int(self.config.retry_delay(attempts) * 1000)
                if int(item["time_since_delivered"]) < due:
                    continue
                claimed: Any = await self.redis.xclaim(
                    stream,
                    self.group,
                    self.name,
                    min_idle_time=due,
                    message_ids=[item["message_id"]],
                )
                for entry_id, fields in claimed:
                    if not fields:  # trimmed from the stream meanwhile: nothing to apply
                        await self.redis.xack(stream, self.group, entry_id)
                        continue
                    await self.handle(stream, entry_id, fields, attempts=attempts + 1)
                    handled += 1
        return handled

    async def handle(
        self, stream: str, entry_id: str, fields: Mapping[str, str], *, attempts: int
    ) -> None:
        try:
            event = Event.parse(stream, entry_id, fields)
        except MalformedEvent:
            await self.park(
                stream, entry_id, fields, error_type="MalformedEvent", attempts=attempts
            )
            return
        types = self.consumer.types
        if types is None or event.type in types:
            try:
                applied = await self._apply(event)
            except Exception as exc:
                if attempts >= self.config.max_attempts:
                    await self.park(
                        stream, entry_id, fields, error_type=type(exc).__name__, attempts=attempts
                    )
                else:
                    log.warning(
                        "event consumer: handler failed; will retry",
                        extra={
                            "consumer": self.group,
                            "event_id": str(event.id),
                            "event_type": event.type,
                            "error_type": type(exc).__name__,
                            "attempts": attempts,
                        },
                    )
                return
            self.applied += int(applied)
        await self.redis.xack(stream, self.group, entry_id)
        self.processed += 1

    async def _apply(self, event: Event) -> bool:
        """The handler and the processed record in one transaction; False when already done."""
        record = (
            insert(self._processed)
            .values(consumer=self.group, event_id=event.id, processed_at=sa.func.now())
            .on_conflict_do_nothing()
            .returning(self._processed.c.event_id)
        )
        async with self.sessionmaker() as session, session.begin():
            if (await session.execute(record)).first() is None:
                return False
            await self.consumer.handler(session, event)
        return True

    async def park(
        self,
        stream: str,
        entry_id: str,
        fields: Mapping[str, str],
        *,
        error_type: str,
        attempts: int,
    ) -> None:
        """Move the entry to the dead-letter stream and acknowledge it, atomically."""
        letter = {
            "consumer": self.group,
            "stream": stream,
            "entryId": entry_id,
            "eventId": str(fields.get("id", "")),
            "type": str(fields.get("type", "")),
            "errorType": error_type,
            "attempts": str(attempts),
            "parkedAt": datetime.now(UTC).isoformat(),
            "event": orjson.dumps(dict(fields)).decode(),
        }
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xadd(
                self.config.dead_stream,
                letter,  # type: ignore[arg-type]
                maxlen=self.config.dead_maxlen,
                approximate=True,
            )
            pipe.xack(stream, self.group, entry_id)
            await pipe.execute()
        self.parked += 1
        log.error(
            "event consumer: event parked in the dead-letter stream",
            extra={
                "consumer": self.group,
                "event_id": letter["eventId"],
                "event_type": letter["type"],
                "error_type": error_type,
                "attempts": attempts,
            },
        )

    # -- background ----------------------------------------------------------------------------

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"consumer-{self.group}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await stop_tasks(task)

    async def _run(self) -> None:
        backoff = Backoff(self.config.backoff_initial, self.config.backoff_max)
        while True:
            raise_if_cancelling()  # redis-py can swallow the CancelledError of stop()
            try:
                await self.run_once(block_ms=self.config.block_ms)
            except Exception as exc:
                if "NOGROUP" in str(exc):  # the stream or group vanished (e.g. Redis lost data)
                    self._ready = False
                if not backoff.failing:
                    log.warning(
                        "event consumer: cannot read events; retrying",
                        extra={"consumer": self.group, "error_type": type(exc).__name__},
                    )
                await asyncio.sleep(backoff.next())
                continue
            if backoff.failing:
                log.info("event consumer: reading again", extra={"consumer": self.group})
            backoff.reset()


def consumer_redis(url: str, config: ConsumerConfig) -> Redis:
    """A client of the consumers' own: its blocking reads never hold a request's connection."""
    return Redis.from_url(
        url,
        decode_responses=True,
        socket_timeout=config.block_ms / 1000 + 5,
        socket_connect_timeout=5,
        retry=Retry(NoBackoff(), 0),
    )


class ConsumerTasks:
    """The background part (`shared.lifetime.Background`) running `consumers` in this process,
    sharing one Redis client of their own (blocking reads never hold a request's connection).
    Starting twice is a no-op."""

    def __init__(self, consumers: Sequence[Consumer], *, config: ConsumerConfig | None = None):
        self.consumers = tuple(consumers)
        self.config = config or ConsumerConfig()
        self.runners: list[ConsumerRunner] = []
        self._redis: Redis | None = None

    async def start(self, resources: Resources) -> None:
        if self._redis is not None:
            return
        if not resources.settings.redis_url:
            raise RuntimeError("event consumers need REDIS_URL")
        self._redis = consumer_redis(resources.settings.redis_url, self.config)
        self.runners = [
            ConsumerRunner(
                c, sessionmaker=resources.sessionmaker, redis=self._redis, config=self.config
            )
            for c in self.consumers
        ]
        for runner in self.runners:
            await runner.start()

    async def stop(self) -> None:
        redis, self._redis = self._redis, None
        if redis is None:
            return
        for runner in self.runners:
            await runner.stop()
        self.runners = []
        await redis.aclose()


def service_events(
    schema: str, consumers: Sequence[Consumer], *, config: ConsumerConfig | None = None
) -> list[Background]:
    """A service's event parts, in start order: its outbox relay, then its consumers."""
    return [RelayTask(schema), ConsumerTasks(consumers, config=config)]
