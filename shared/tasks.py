"""Stopping a service's background tasks (relays, consumers, workers), with a bound.

A task that ignores or outlives its cancellation (stuck in a driver's clean-up, say) must not
hold up the shutdown of the whole process: it is logged by name and left behind.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("bff.tasks")

# How long a stop waits for cancelled tasks to finish their clean-up. The test suite raises it
# (tests/conftest.py): on a loaded machine a clean-up can take seconds, and a task left behind
# keeps using clients its owner has already closed (connections nobody closes afterwards).
STOP_TIMEOUT_SECONDS = float(os.environ.get("BACKGROUND_STOP_TIMEOUT_SECONDS", "5"))


async def stop_tasks(*tasks: asyncio.Task[Any] | None) -> None:
    """Cancel the tasks and wait for them to finish, at most STOP_TIMEOUT_SECONDS."""
    running = [task for task in tasks if task is not None and not task.done()]
    for task in running:
        task.cancel()
    if not running:
        return
    _, pending = await asyncio.wait(running, timeout=STOP_TIMEOUT_SECONDS)
    if pending:
        log.warning(
            "background tasks did not stop in time",
            extra={"tasks": sorted(task.get_name() for task in pending)},
        )


async def wait_event(event: asyncio.Event, timeout: float) -> bool:  # noqa: ASYNC109
    """Wait for the event at most `timeout` seconds; True when it was set.

    For the polling loops of background tasks. Unlike `asyncio.timeout`/`wait_for` around
    `event.wait()` under `suppress(TimeoutError)`, it never turns a cancellation that races the
    timeout into a swallowed TimeoutError (Python 3.11), which left `stop()` waiting for a task
    that had lost its cancellation and kept looping.
    """
    waiter = asyncio.ensure_future(event.wait())
    try:
        done, _ = await asyncio.wait({waiter}, timeout=timeout)
    finally:
        waiter.cancel()
    return bool(done)


def raise_if_cancelling() -> None:
    """End a loop whose cancellation a library swallowed (redis-py's pub/sub calls can catch the
    CancelledError of a `stop()`): call it at the top of each turn of a background loop."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def retrieve_outcome(task: asyncio.Future[Any]) -> None:
    """A done callback for an abandoned task: its exception counts as seen (no "exception was
    never retrieved" noise)."""
    if not task.cancelled():
        task.exception()


class Periodic:
    """Runs `job` every `interval_s` seconds (the first run one interval after `start`) until
    `stop`; a run that raises is logged as `failure` (with the error's type only) and the loop
    goes on. An interval of 0 or less never starts."""

    def __init__(
        self,
        *,
        name: str,
        interval_s: float,
        job: Callable[[], Awaitable[object]],
        logger: logging.Logger,
        failure: str,
    ) -> None:
        self.name = name
        self.interval_s = interval_s
        self._job = job
        self._log = logger
        self._failure = failure
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.interval_s > 0 and self._task is None:
            self._task = asyncio.create_task(self._loop(), name=self.name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        await stop_tasks(task)

    async def _loop(self) -> None:
        while True:
            raise_if_cancelling()
            await asyncio.sleep(self.interval_s)
            try:
                await self._job()
            except Exception as exc:  # a failed run must not end the loop
                self._log.warning(self._failure, extra={"error_type": type(exc).__name__})
