"""Storing deliveries by group commit: every event waiting to be stored is written by ONE
multi-row `INSERT ... ON CONFLICT DO NOTHING RETURNING` in ONE transaction, and each delivery is
answered once that transaction has committed.

One writer task per process: while it commits a batch, the deliveries arriving meanwhile queue
up and form the next batch, so a busy sidecar pays one round trip and one commit for many events
and an idle one still stores each event at once. It writes through its own small asyncpg pool
(raw SQL, prepared statements, no ORM), so the worker applying events can never starve storing.

Deduplication is the same as one event at a time (`store.resolve_conflicts`): a known event id
with the same body, or Razorpay's identity of the event (`provider_key`) under another id, is a
duplicate; a known id with a different body is stored under a derived id. A batch that fails on
its data (not on the connection) is retried event by event, so one bad event cannot refuse its
neighbours; a delivery whose request already gave up (503) is not stored at all.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import asyncpg  # type: ignore[import-untyped]

from shared.config import WebhookSettings
from shared.db import asyncpg_dsn
from shared.logging import mask
from shared.tasks import raise_if_cancelling, wait_event
from subgraphs.payments.webhooks import store
from subgraphs.payments.webhooks.store import NewEvent

log = logging.getLogger("webhooks.ingest")

# Rows per INSERT: bounded so one statement stays well within the statement timeout.
MAX_BATCH = 256
# A delivery's answer waits at most this long past its store deadline for its batch.
ANSWER_MARGIN_SECONDS = 0.5

Verdict = Literal["stored", "duplicate"]


@dataclass(frozen=True)
class Stored:
    """What became of one delivery: `stored` (with the new row's id) or `duplicate`."""

    verdict: Verdict
    event_pk: uuid.UUID | None = None


@dataclass(frozen=True)
class _Pending:
    event: NewEvent
    waiter: asyncio.Future[Stored]
    deadline: float  # loop time


OnStored = Callable[[Sequence[tuple[uuid.UUID, NewEvent]]], None]


# Errors of a batch's content, or of its lock order against another replica's batch (a deadlock
# on the unique indexes): each event is then stored on its own.
_DATA_ERRORS = (
    asyncpg.DataError,
    asyncpg.IntegrityConstraintViolationError,
    asyncpg.TransactionRollbackError,
)


class GroupCommit:
    """`await store(event)` -> `Stored` once committed; raises when it could not be stored."""

    def __init__(self, settings: WebhookSettings, *, on_stored: OnStored) -> None:
        self.settings = settings
        self.on_stored = on_stored
        self._pool: asyncpg.Pool | None = None
        self._queue: list[_Pending] = []
        self._writing: list[_Pending] = []
        self._arrived = asyncio.Event()
        # Set while no delivery waits to be stored (the worker applies in the gaps: `quiet`).
        self._quiet = asyncio.Event()
        self._quiet.set()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        settings = self.settings
        if not settings.database_url:
            raise RuntimeError("DATABASE_URL must be set (make dev sets it)")
        # min_size=0: the sidecar starts (and answers 503) while PostgreSQL is down.
        self._pool = await asyncpg.create_pool(
            asyncpg_dsn(settings.database_url),
            min_size=0,
            max_size=1,
            timeout=settings.webhook_db_connect_timeout_seconds,
            command_timeout=settings.webhook_statement_timeout_ms / 1000 + 1,
            max_inactive_connection_lifetime=300,
            server_settings={
                "application_name": f"{settings.service_name}-ingest",
                "statement_timeout": str(settings.webhook_statement_timeout_ms),
                "lock_timeout": str(settings.webhook_lock_timeout_ms),
                "idle_in_transaction_session_timeout": "30000",
            },
        )
        self._task = asyncio.get_running_loop().create_task(self._run(), name="webhook-ingest")

    async def stop(self) -> None:
        task, self._task = self._task, None
        # Taken before cancelling: the writer's `finally` empties `_writing` as it ends.
        writing = list(self._writing)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        for item in [*writing, *self._queue]:
            if not item.waiter.done():
                item.waiter.set_exception(RuntimeError("the sidecar is stopping"))
        self._queue.clear()
        self._writing = []
        self._quiet.set()
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def store(self, event: NewEvent) -> Stored:
        """Stored or duplicate once committed; TimeoutError when that did not happen within
        WEBHOOK_STORE_TIMEOUT_SECONDS (one timer per batch, none per delivery)."""
        if self._task is None:
            raise RuntimeError("the sidecar is not running")
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Stored] = loop.create_future()
        deadline = loop.time() + self.settings.webhook_store_timeout_seconds
        self._queue.append(_Pending(event, waiter, deadline))
        self._quiet.clear()
        self._arrived.set()
        try:
            # Answered by the deadline even when the writer is held up (a cancelled query on a
            # connection that no longer answers returns only when the driver gives up): the
            # margin lets the batch's own timeout answer first.
            async with asyncio.timeout_at(deadline + ANSWER_MARGIN_SECONDS):
                return await asyncio.shield(waiter)
        except BaseException:
            # Given up (timeout, or the request is gone): not stored if not written yet;
            # stored and answered 503 if its batch commits anyway (Razorpay's retry is then a
            # duplicate).
            waiter.cancel()
            raise

    async def quiet(self, at_most: float) -> None:
        """Until no delivery waits to be stored (each answered or given up), or `at_most`
        seconds: the worker applies in the gaps between bursts, so a burst of deliveries is not
        slowed by applying on the same event loop, and a sustained flood cannot stall it."""
        if not self._quiet.is_set():
            await wait_event(self._quiet, at_most)  # a stop() racing the timeout still stops

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            raise_if_cancelling()  # a stop() whose CancelledError the driver swallowed
            self._quiet.set()  # every delivery so far is answered
            await self._arrived.wait()
            self._arrived.clear()
            while self._queue:
                raise_if_cancelling()
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                now = loop.time()
                live: list[_Pending] = []
                for item in batch:
                    if item.waiter.done():
                        continue  # the request is gone: nothing to answer
                    if item.deadline <= now:
                        # Waited its whole time for earlier batches: answered 503, not stored
                        # (Razorpay sends it again).
                        item.waiter.set_exception(TimeoutError("store timeout"))
                        continue
                    live.append(item)
                if not live:
                    continue
                self._writing = live
                try:
                    await self._write(live)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # a bug: answer 503 rather than never
                    log.exception("webhook batch not written")
                    for item in live:
                        if not item.waiter.done():
                            item.waiter.set_exception(exc)
                finally:
                    self._writing = []

    async def _write(self, batch: list[_Pending]) -> None:
        error: BaseException
        try:
            # The earliest deadline of the batch bounds its commit.
            async with asyncio.timeout_at(min(item.deadline for item in batch)):
                results = await self._commit([item.event for item in batch])
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # TimeoutError past the deadline too
            if len(batch) > 1 and isinstance(exc, _DATA_ERRORS):
                log.warning(
                    "webhook batch refused by the database: storing its events one by one",
                    extra={"events": len(batch), "error_type": type(exc).__name__},
                )
                for item in batch:
                    await self._write([item])
                return
            results, error = None, exc
        if results is None:
            for item in batch:
                if not item.waiter.done():
                    item.waiter.set_exception(error)
            return
        for item, result in zip(batch, results, strict=True):
            if not item.waiter.done():
                item.waiter.set_result(result)
        stored = [
            (result.event_pk, item.event)
            for item, result in zip(batch, results, strict=True)
            if result.event_pk is not None
        ]
        if stored:
            self.on_stored(stored)

    async def _commit(self, events: list[NewEvent]) -> list[Stored]:
        assert self._pool is not None
        async with self._pool.acquire() as conn, conn.transaction():
            ids = [uuid.uuid4() for _ in events]
            inserted = await store.insert_batch(conn, ids, events)
            results = [
                Stored("stored", pk) if pk in inserted else Stored("duplicate") for pk in ids
            ]
            conflicts = [i for i, pk in enumerate(ids) if pk not in inserted]
            if conflicts:
                await self._resolve(conn, events, conflicts, results)
        return results

    async def _resolve(
        self,
        conn: asyncpg.Connection,
        events: list[NewEvent],
        conflicts: list[int],
        results: list[Stored],
    ) -> None:
        """The events that were not inserted: a duplicate of a stored event, or an event id
        reused with another body (the header is not signed), kept under a derived id."""
        known = await store.stored_bodies(conn, [events[i].event_id for i in conflicts])
        variants: list[tuple[int, NewEvent]] = []
        for i in conflicts:
            event = events[i]
            body = known.get(event.event_id)
            if body is None:
                # Not this id: Razorpay's identity of the event (`provider_key`) is stored.
                log.warning(
                    "webhook event already stored under another event id: duplicate",
                    extra={
                        "security_event": "webhook_event_replayed",
                        "event_id": mask(event.event_id),
                        "event_type": event.event_type,
                    },
                )
            elif body != event.body_sha256:
                log.warning(
                    "webhook event id reused with a different body: stored separately",
                    extra={
                        "security_event": "webhook_event_id_reused",
                        "event_id": mask(event.event_id),
                        "event_type": event.event_type,
                    },
                )
                variants.append((i, store.variant_of(event)))
        if variants:
            ids = [uuid.uuid4() for _ in variants]
            inserted = await store.insert_batch(conn, ids, [v for _, v in variants])
            for (i, _), pk in zip(variants, ids, strict=True):
                if pk in inserted:
                    results[i] = Stored("stored", pk)
