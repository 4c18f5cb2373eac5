from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest

from shared import tasks
from shared.tasks import Periodic, stop_tasks, wait_event

log = logging.getLogger("test.periodic")


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


async def test_periodic_runs_again_after_a_failed_run_and_stops(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger=log.name)
    runs: list[int] = []

    async def job() -> None:
        runs.append(len(runs))
        if len(runs) == 1:
            raise RuntimeError("the first run fails")

    periodic = Periodic(
        name="test-periodic", interval_s=0.01, job=job, logger=log, failure="test job failed"
    )
    periodic.start()
    try:
        async with asyncio.timeout(30):
            while len(runs) < 3:
                await asyncio.sleep(0.01)
    finally:
        await periodic.stop()
    ours = [r for r in caplog.records if r.name == log.name]
    assert [r.getMessage() for r in ours] == ["test job failed"]
    assert ours[0].error_type == "RuntimeError"  # type: ignore[attr-defined]


async def test_periodic_with_no_interval_never_starts() -> None:
    async def job() -> None:  # pragma: no cover - never called
        raise AssertionError

    periodic = Periodic(name="off", interval_s=0, job=job, logger=log, failure="x")
    periodic.start()
    assert periodic._task is None
    await periodic.stop()
