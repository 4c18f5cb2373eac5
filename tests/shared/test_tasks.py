from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest

from shared import tasks
from shared.tasks import stop_tasks, wait_event


async def test_wait_event_reports_set_or_timed_out() -> None:
    event = asyncio.Event()
    assert await wait_event(event, 0.01) is False
    asyncio.get_running_loop().call_later(0.01, event.set)
    assert await wait_event(event, 5) is True


async def test_a_polling_loop_stops_even_when_cancel_races_the_timeout() -> None:
    event = asyncio.Event()
    rounds = 0

    async def poll() -> None:
        nonlocal rounds
        while True:
            await wait_event(event, 0.001)  # the timeout fires about when we cancel
            rounds += 1

    for attempt in range(50):
        task = asyncio.create_task(poll())
        await asyncio.sleep(0.001 * (attempt % 5 + 1))  # around, before and after timeouts
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 1)  # a lost cancellation would time out here
        assert task.cancelled()
    assert rounds > 0


async def test_stop_tasks_does_not_wait_forever(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(tasks, "STOP_TIMEOUT_SECONDS", 0.05)
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(1)

    task = asyncio.create_task(stubborn(), name="stubborn")
    await asyncio.sleep(0)
    with caplog.at_level(logging.WARNING, logger="bff.tasks"):
        await stop_tasks(task, None)
    assert caplog.records[0].tasks == ["stubborn"]  # type: ignore[attr-defined]
    release.set()
    task.cancel()
    await asyncio.wait({task})


async def test_stop_tasks_waits_for_clean_exits() -> None:
    task = asyncio.create_task(asyncio.sleep(10))
    await stop_tasks(task)
    assert task.cancelled()
