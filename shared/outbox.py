"""The transactional outbox every service uses: the table shape, writing an event, and the relay.

Writers only commit: a change and the `<schema>.outbox_events` row describing it are inserted in
one transaction (`add_event`). A relay, running in every process of the service, publishes
committed rows:

1. claim the oldest unpublished rows, `SELECT ... ORDER BY seq FOR UPDATE SKIP LOCKED LIMIT n`
   (two relays never hold the same row; each skips what the other claimed);
2. `XADD events:<service> MAXLEN ~ N` with the contract's envelope (`id`, `type`, `occurredAt`,
   `actorId`, `data` as JSON text), plus whatever the service's `on_published` hook adds, in one
   MULTI/EXEC;
3. set `published_at` and commit, in the same transaction as the claim.

At least once: a crash between 2 and 3 publishes the rows again; consumers dedupe on `id`
(`shared.consumers`). Woken by PostgreSQL NOTIFY (`<schema>_outbox`, sent at commit by the
statement trigger each service's migrations install) on a dedicated LISTEN connection that
reconnects on failure, plus a slow poll as a safety net. While Redis (or PostgreSQL) is down the
rows stay unpublished and the relay retries with back-off, logging one warning per outage.

After each pass (at most every `pending_interval` seconds) the relay counts the unpublished rows
(an index-only count on the partial index of unpublished rows) into `bff_outbox_pending{service}`
(`shared.metrics`); `/readyz` reports the same number.

Trace context: an event written inside a traced request carries that request's W3C
`traceparent` (`with_trace_context`, stored under the reserved `data` key `_traceparent`). The
relay takes it out of `data` (consumers see the contract's `data` only), adds it to the stream
entry as `traceparent`, and publishes the batch inside a span linked to those traces.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import orjson
import sqlalchemy as sa
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared import metrics, telemetry
from shared.db import asyncpg_dsn, create_engine, create_sessionmaker
from shared.lifetime import Resources
from shared.tasks import raise_if_cancelling, stop_tasks, wait_event

STREAM_PREFIX = "events:"
TRACE_CONTEXT_KEY = "_traceparent"
SERVICES = ("auth", "payments", "admin", "profile")


def stream_for(service: str) -> str:
    """The stream a service's relay publishes to: `events:<service>`."""
    return f"{STREAM_PREFIX}{service}"


def notify_channel_for(schema: str) -> str:
    return f"{schema}_outbox"


def outbox_table(schema: str) -> sa.TableClause:
    """`<schema>.outbox_events`, the same shape in every service (see the services' migrations)."""
    return sa.table(
        "outbox_events",
        sa.column("seq", sa.BigInteger),
        sa.column("id", UUID(as_uuid=True)),
        sa.column("type", sa.String),
        sa.column("occurred_at", sa.DateTime(timezone=True)),
        sa.column("actor_id", UUID(as_uuid=True)),
        sa.column("data", JSONB),
        sa.column("published_at", sa.DateTime(timezone=True)),
        schema=schema,
    )


def with_trace_context(data: dict[str, Any]) -> dict[str, Any]:
    """`data` as stored in an outbox row: with the current `traceparent` while tracing."""
    traceparent = telemetry.current_traceparent()
    return {**data, TRACE_CONTEXT_KEY: traceparent} if traceparent else data


async def add_event(
    session: AsyncSession,
    *,
    schema: str,
    type: str,
    actor_id: uuid.UUID | None,
    data: dict[str, Any],
    occurred_at: datetime | None = None,
    event_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Insert an outbox row in the session's transaction (it is published once committed)."""
    event_id = event_id or uuid.uuid4()
    await session.execute(
        sa.insert(outbox_table(schema)).values(
            id=event_id,
            type=type,
            occurred_at=occurred_at or datetime.now(UTC),
            actor_id=actor_id,
            data=with_trace_context(data),
        )
    )
    return event_id


@dataclass
class Backoff:
    """Exponential back-off between attempts (doubling, capped)."""

    initial: float = 0.1
    maximum: float = 5.0
    _next: float = field(default=0.0, init=False)

    def next(self) -> float:
        self._next = self.initial if self._next == 0 else min(self._next * 2, self.maximum)
        return self._next

    def reset(self) -> None:
        self._next = 0.0

    @property
    def failing(self) -> bool:
        return self._next != 0


@dataclass(frozen=True)
class RelayConfig:
    stream: str = ""  # default: events:<schema>
    stream_maxlen: int = 100_000  # approximate (`MAXLEN ~`): consumers must keep up within it
    notify_channel: str = ""  # default: <schema>_outbox
    batch_size: int = 100
    poll_interval: float = 1.0  # safety net when a NOTIFY is lost (LISTEN connection down)
    keepalive_interval: float = 30.0  # probes the LISTEN connection
    backoff_initial: float = 0.2
    backoff_max: float = 10.0
    pending_interval: float = 5.0  # how often, at most, the relay counts unpublished rows


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    id: uuid.UUID
    type: str
    occurred_at: datetime
    actor_id: uuid.UUID | None
    data: dict[str, Any]
    traceparent: str | None = None

    @classmethod
    def from_row(
        cls,
        id: uuid.UUID,
        type: str,
        occurred_at: datetime,
        actor_id: uuid.UUID | None,
        data: dict[str, Any],
    ) -> OutboxEvent:
        """An outbox row as published: its trace context out of `data`."""
        traceparent = data.get(TRACE_CONTEXT_KEY) if isinstance(data, dict) else None
        if traceparent is not None:
            data = {k: v for k, v in data.items() if k != TRACE_CONTEXT_KEY}
        return cls(
            id,
            type,
            occurred_at,
            actor_id,
            data,
            traceparent if isinstance(traceparent, str) else None,
        )

    def envelope(self) -> dict[str, str]:
        """The stream entry: the contract's envelope, `data` as JSON text (and `traceparent`)."""
        entry = {
            "id": str(self.id),
            "type": self.type,
            "occurredAt": self.occurred_at.isoformat(),
            "actorId": str(self.actor_id) if self.actor_id else "",
            "data": orjson.dumps(self.data).decode(),
        }
        if self.traceparent:
            entry["traceparent"] = self.traceparent
        return entry


OnPublished = Callable[[Pipeline, Sequence[OutboxEvent]], None]
"""Adds commands to the MULTI/EXEC that publishes a batch (e.g. pub/sub fan-out)."""


class OutboxRelay:
    """Publishes committed rows of `<schema>.outbox_events`; `start()` runs it in the background."""

    def __init__(
        self,
        *,
        schema: str,
        sessionmaker: async_sessionmaker[AsyncSession],
        redis: Redis,
        listen_dsn: str | None,
        config: RelayConfig | None = None,
        on_published: OnPublished | None = None,
    ) -> None:
        config = config or RelayConfig()
        self.schema = schema
        self.table = outbox_table(schema)
        self.stream = config.stream or stream_for(schema)
        self.notify_channel = config.notify_channel or notify_channel_for(schema)
        self.sessionmaker = sessionmaker
        self.redis = redis
        self.listen_dsn = listen_dsn
        self.config = config
        self.on_published = on_published
        self.log = logging.getLogger(f"bff.{schema}.relay")
        self.published = 0
        self.listening = asyncio.Event()
        self._pending_counted_at: float | None = None
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    # -- one pass ------------------------------------------------------------------------------

    async def publish_batch(self) -> int:
        """Claim, publish and mark at most `batch_size` rows in one transaction."""
        t = self.table
        claim = (
            sa.select(t.c.id, t.c.type, t.c.occurred_at, t.c.actor_id, t.c.data)
            .where(t.c.published_at.is_(None))
            .order_by(t.c.seq)
            .limit(self.config.batch_size)
            .with_for_update(skip_locked=True)
        )
        async with self.sessionmaker() as session, session.begin():
            events = [OutboxEvent.from_row(*row) for row in (await session.execute(claim)).all()]
            if not events:
                return 0
            with telemetry.linked_span(
                f"outbox publish {self.schema}",
                [e.traceparent for e in events],
                attributes={"messaging.batch.message_count": len(events)},
            ):
                await self._publish(events)
                await session.execute(
                    sa.update(t)
                    .where(t.c.id.in_([e.id for e in events]))
                    .values(published_at=sa.func.now())
                )
        self.published += len(events)
        return len(events)

    async def _publish(self, events: Sequence[OutboxEvent]) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            for event in events:
                pipe.xadd(
                    self.stream,
                    event.envelope(),  # type: ignore[arg-type]
                    maxlen=self.config.stream_maxlen,
                    approximate=True,
                )
            if self.on_published is not None:
                self.on_published(pipe, events)
            await pipe.execute()

    async def count_pending(self) -> int:
        """Count the committed, unpublished rows (claimed ones too) into `bff_outbox_pending`."""
        t = self.table
        query = sa.select(sa.func.count()).select_from(t).where(t.c.published_at.is_(None))
        async with self.sessionmaker() as session:
            pending = int((await session.execute(query)).scalar_one())
        metrics.set_outbox_pending(self.schema, pending)
        return pending

    async def _count_pending_when_due(self) -> None:
        now = asyncio.get_running_loop().time()
        due = self._pending_counted_at
        if due is not None and now - due < self.config.pending_interval:
            return
        self._pending_counted_at = now
        try:
            await self.count_pending()
        except Exception as exc:  # PostgreSQL down: the gauge keeps its last value
            self.log.debug("outbox relay: cannot count", extra={"error_type": type(exc).__name__})

    async def drain(self) -> int:
        """Publish until nothing committed is left (or what is left is claimed elsewhere)."""
        total = 0
        while True:
            count = await self.publish_batch()
            total += count
            if count < self.config.batch_size:
                return total

    # -- background ----------------------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        if self._tasks:
            return
        self._tasks.append(asyncio.create_task(self._run(), name=f"{self.schema}-outbox-relay"))
        if self.listen_dsn is not None:
            self._tasks.append(
                asyncio.create_task(self._listen(), name=f"{self.schema}-outbox-listen")
            )

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        await stop_tasks(*tasks)

    async def _run(self) -> None:
        backoff = Backoff(self.config.backoff_initial, self.config.backoff_max)
        self._wake.set()  # publish what accumulated while no relay ran
        while True:
            raise_if_cancelling()  # a driver may swallow the CancelledError of stop()
            await wait_event(self._wake, self.config.poll_interval)
            self._wake.clear()  # a NOTIFY arriving during the pass triggers another one
            try:
                count = await self.drain()
            except Exception as exc:
                if not backoff.failing:
                    self.log.warning(
                        "outbox relay: cannot publish, events stay queued; retrying",
                        extra={"error_type": type(exc).__name__},
                    )
                await self._count_pending_when_due()
                await asyncio.sleep(backoff.next())
                self._wake.set()
                continue
            await self._count_pending_when_due()
            if backoff.failing:
                self.log.info("outbox relay: publishing again", extra={"published": count})
            backoff.reset()

    def _on_notify(self, *_args: object) -> None:
        self._wake.set()

    async def _listen(self) -> None:
        """Keep a LISTEN connection open; every NOTIFY wakes the relay."""
        assert self.listen_dsn is not None
        backoff = Backoff(self.config.backoff_initial, self.config.backoff_max)
        while True:
            raise_if_cancelling()
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self.listen_dsn, timeout=10)
                await self._listen_on(conn, backoff)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                if not backoff.failing:
                    self.log.warning(
                        "outbox relay: LISTEN connection lost; polling until it is back",
                        extra={"error_type": type(exc).__name__},
                    )
            finally:
                self.listening.clear()
                if conn is not None and not conn.is_closed():
                    try:
                        await conn.close(timeout=2)
                    except Exception:  # closing a broken connection: give up politely
                        conn.terminate()
            await asyncio.sleep(backoff.next())

    async def _listen_on(self, conn: asyncpg.Connection, backoff: Backoff) -> None:
        """Returns when the connection is lost; raises when a keep-alive probe fails."""
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        await conn.add_listener(self.notify_channel, self._on_notify)
        if backoff.failing:
            self.log.info("outbox relay: listening again")
        backoff.reset()
        self.listening.set()
        self._wake.set()  # catch up on commits made while not listening
        while not await wait_event(lost, self.config.keepalive_interval):
            raise_if_cancelling()
            await conn.execute("SELECT 1", timeout=10)


def relay_redis(url: str) -> Redis:
    """The relay's own client: bounded timeouts and no hidden retries while it holds row locks."""
    return Redis.from_url(
        url,
        decode_responses=True,
        socket_timeout=5,
        socket_connect_timeout=5,
        retry=Retry(NoBackoff(), 0),
    )


@dataclass
class RunningRelay:
    relay: OutboxRelay
    engine: AsyncEngine
    redis: Redis


class RelayTask:
    """The background part (`shared.lifetime.Background`) running one relay of
    `<schema>.outbox_events` in this process, with its own small engine and Redis client so it
    never competes with requests for connections. Starting twice is a no-op; rows it had not
    published stay for the next relay."""

    def __init__(
        self,
        schema: str,
        *,
        on_published: OnPublished | None = None,
        config: RelayConfig | None = None,
    ) -> None:
        self.schema = schema
        self.on_published = on_published
        self.config = config
        self.running: RunningRelay | None = None

    async def start(self, resources: Resources) -> None:
        if self.running is not None:
            return
        settings = resources.settings
        if not settings.database_url or not settings.redis_url:
            raise RuntimeError("the outbox relay needs DATABASE_URL and REDIS_URL")
        engine = create_engine(
            settings.database_url, pool_size=1, application_name=f"{settings.service_name}-relay"
        )
        redis = relay_redis(settings.redis_url)
        relay = OutboxRelay(
            schema=self.schema,
            sessionmaker=create_sessionmaker(engine),
            redis=redis,
            listen_dsn=asyncpg_dsn(settings.database_url),
            config=self.config,
            on_published=self.on_published,
        )
        self.running = RunningRelay(relay, engine, redis)
        await relay.start()

    async def stop(self) -> None:
        running, self.running = self.running, None
        if running is None:
            return
        await running.relay.stop()
        await running.redis.aclose()
        await running.engine.dispose()
