"""The background worker: applies stored events off the request path, and, at most every
`PRUNE_INTERVAL`, deletes events applied more than the retention period ago (never one that is
waiting or parked), `PRUNE_BATCH` rows per transaction.

It is woken at once when this process commits new events (`stored`, called by the group commit
of `ingest.py`), and otherwise looks every `WEBHOOK_WORKER_INTERVAL_SECONDS` (events stored by
another replica, retries whose backoff is over, replays). Each pass takes the due events, most
overdue first, and applies up to `WEBHOOK_WORKER_CONCURRENCY` of them at a time: events about
different payments concurrently, the events about one payment one after the other in order of
arrival (`store.due_events` names the payment from the payload). Each attempt is one transaction
(`dispatch.apply_stored_event`: row locked `FOR UPDATE SKIP LOCKED`, applied, outcome recorded):
a process stopped mid-apply rolls it back and the event stays waiting, for this process once it
is back or for another replica.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import telemetry
from shared.lifetime import Resources
from shared.tasks import raise_if_cancelling, stop_tasks
from subgraphs.payments.webhooks import store
from subgraphs.payments.webhooks.dispatch import RetryPolicy, apply_stored_event
from subgraphs.payments.webhooks.metrics import WebhookMetrics

if TYPE_CHECKING:
    from subgraphs.payments.webhooks.store import NewEvent

log = logging.getLogger("webhooks.worker")

PRUNE_INTERVAL = timedelta(hours=1)
PRUNE_BATCH = 1_000
DEFAULT_RETENTION = timedelta(days=30)
# The gauges (and /readyz's backlog) are counted at most this often.
GAUGE_INTERVAL_SECONDS = 1.0
# Trace contexts of stored events kept for the worker (while tracing), oldest dropped first.
MAX_TRACE_CONTEXTS = 10_000
# Before each attempt the worker waits, at most this long, until no delivery waits to be stored
# (`ingest.GroupCommit.quiet`): applying shares the event loop with answering Razorpay, and a
# burst of deliveries is answered first; a flood that never pauses still lets the worker apply.
YIELD_MAX_SECONDS = 0.05

YieldTo = Callable[[float], Awaitable[None]]


class WebhookWorker:
    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        policy: RetryPolicy,
        metrics: WebhookMetrics,
        interval_seconds: float,
        batch_size: int,
        concurrency: int = 1,
        retention: timedelta = DEFAULT_RETENTION,
        yield_to: YieldTo | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.policy = policy
        self.metrics = metrics
        self.interval_seconds = interval_seconds
        self.batch_size = batch_size
        self.concurrency = max(1, concurrency)
        self.retention = retention
        self.yield_to = yield_to
        self._pruned_at: datetime | None = None
        self._counted_at = 0.0
        self.backlog: dict[str, int] | None = None  # last counted: waiting, parked (/readyz)
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._traces: OrderedDict[uuid.UUID, str] = OrderedDict()

    def stored(self, events: Sequence[tuple[uuid.UUID, NewEvent]]) -> None:
        """New events are committed: apply them now (and in the trace of their request)."""
        for event_pk, event in events:
            if event.traceparent:
                self._traces[event_pk] = event.traceparent
                if len(self._traces) > MAX_TRACE_CONTEXTS:
                    self._traces.popitem(last=False)
        self._wake.set()

    async def run_once(self, now: datetime | None = None) -> int:
        """Apply the events due by `now` (again while some are: an attempt that failed with no
        backoff left is due again), up to `batch_size` attempts; how many were attempted here.
        Due events another replica is applying (row locked) are not attempted, and a round
        that could attempt none of its due events ends the pass: no spinning on their locks."""
        attempted = 0
        while attempted < self.batch_size:
            due = await self._due(now, self.batch_size - attempted)
            if not due:
                break
            claimed = await self._apply_all(due, now)
            if claimed == 0:
                break
            attempted += claimed
        await self._refresh_gauges_when_due()
        return attempted

    async def _due(self, now: datetime | None, limit: int) -> Sequence[tuple[uuid.UUID, str]]:
        async with self.sessionmaker() as session:
            return await store.due_events(
                session=session, now=now or datetime.now(UTC), limit=limit
            )

    async def _apply_all(self, due: Sequence[tuple[uuid.UUID, str]], now: datetime | None) -> int:
        """The events of one payment in order, different payments concurrently; how many were
        attempted. A chain that fails (the database went away) stops there, its later events
        left due so they stay behind the failed one, and does not stop the other chains."""
        chains: dict[str, list[uuid.UUID]] = {}
        for event_pk, key in due:
            chains.setdefault(key, []).append(event_pk)
        gate = asyncio.Semaphore(self.concurrency)
        claimed = 0

        async def chain(events: list[uuid.UUID]) -> None:
            nonlocal claimed
            async with gate:
                for event_pk in events:
                    if self.yield_to is not None:
                        await self.yield_to(YIELD_MAX_SECONDS)
                    try:
                        attempted = await self._apply(event_pk, now)
                    except Exception:
                        log.warning("webhook event not applied", exc_info=True)
                        return
                    claimed += attempted  # after the await: `x += await f()` reads x before it

        async with asyncio.TaskGroup() as group:
            for events in chains.values():
                group.create_task(chain(events))
        return claimed

    async def _apply(self, event_pk: uuid.UUID, now: datetime | None) -> bool:
        """Whether the event was attempted here (not already done, nor being applied elsewhere)."""
        with self._in_trace_of(event_pk):
            row = await apply_stored_event(
                sessionmaker=self.sessionmaker,
                policy=self.policy,
                metrics=self.metrics,
                path="worker",
                event_pk=event_pk,
                now=now,
            )
        self._traces.pop(event_pk, None)
        return row is not None

    @contextmanager
    def _in_trace_of(self, event_pk: uuid.UUID) -> Iterator[None]:
        """While tracing: apply in a span of the delivery's own trace, so its SQL and the
        outbox events it writes (their `traceparent`) belong to the webhook's trace."""
        traceparent = self._traces.get(event_pk)
        if not traceparent or not telemetry.enabled():
            yield
            return
        from opentelemetry.trace import SpanKind
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        parent = TraceContextTextMapPropagator().extract({"traceparent": traceparent})
        with telemetry.tracer().start_as_current_span(
            "webhook apply", context=parent, kind=SpanKind.CONSUMER
        ):
            yield

    async def prune(self, now: datetime | None = None) -> int:
        """Delete the events applied before `now - retention`; how many were deleted."""
        now = now or datetime.now(UTC)
        deleted = 0
        while True:
            async with self.sessionmaker() as session, session.begin():
                batch = await store.prune(
                    session=session, applied_before=now - self.retention, limit=PRUNE_BATCH
                )
            deleted += batch
            if batch < PRUNE_BATCH:
                break
        self._pruned_at = now
        if deleted:
            log.info("webhook events pruned", extra={"deleted": deleted})
        return deleted

    async def _prune_when_due(self) -> None:
        now = datetime.now(UTC)
        if self._pruned_at is None or now - self._pruned_at >= PRUNE_INTERVAL:
            await self.prune(now)

    async def refresh_gauges(self) -> None:
        async with self.sessionmaker() as session:
            waiting, parked = await store.backlog(session=session)
        self.metrics.backlog.set(waiting)
        self.metrics.parked_now.set(parked)
        self.backlog = {"waiting": waiting, "parked": parked}
        self._counted_at = time.monotonic()

    async def _refresh_gauges_when_due(self) -> None:
        if time.monotonic() - self._counted_at >= GAUGE_INTERVAL_SECONDS:
            await self.refresh_gauges()

    async def _loop(self) -> None:
        while True:
            raise_if_cancelling()
            self._wake.clear()
            try:
                while await self.run_once() >= self.batch_size:
                    pass  # more are due: no waiting
                await self._prune_when_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                # The database may be down: keep polling, Razorpay's events are safe in the table.
                log.warning("webhook worker pass failed", exc_info=True)
            try:
                async with asyncio.timeout(self.interval_seconds):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def start(self, resources: Resources | None = None) -> None:
        """A background part of the sidecar (`shared.lifetime.Background`); it works with the
        sessionmaker it was built with."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="webhook-worker")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await stop_tasks(task)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()
