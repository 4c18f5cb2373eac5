"""Concurrent lookups of a process folded into one round trip (`Batcher`).

A burst of live updates wakes hundreds of subscribers of one process at once; each used to re-read
its payment, check its token's revocation and (when it started) take its slot with a round trip
of its own, so a burst of N subscribers cost N statements and N Redis commands, and the bounded
live-update pool could not serve them in time. A `Batcher` turns the lookups made while the
previous batch was in flight into the next batch: one call for all of them, one result per key.

Freshness: a lookup only ever joins a batch that has not started yet, so its answer was read after
the lookup was made (for a subscriber: after the update that woke it arrived). Equal keys in one
batch share one answer (every subscriber of a channel in this process: one read).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Generic, TypeVar

from shared.tasks import retrieve_outcome

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

Fetch = Callable[[Sequence[K]], Awaitable[Mapping[K, V]]]


class Batcher(Generic[K, V]):
    """`get(key)` answered by `fetch(keys)` called for every key asked meanwhile; one batch in
    flight at a time, at most `max_batch` keys each. A key `fetch` leaves out answers `default`;
    a failing `fetch` fails every lookup of its batch."""

    def __init__(self, fetch: Fetch[K, V], *, default: V, max_batch: int = 500) -> None:
        self._fetch = fetch
        self._default = default
        self._max_batch = max_batch
        self._pending: dict[K, asyncio.Future[V]] = {}
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def get(self, key: K) -> V:
        [value] = await self.get_many((key,))
        return value

    async def get_many(self, keys: Sequence[K]) -> list[V]:
        """The keys' values, all asked in the same batch."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (tests): nothing of the old one survives
            self._loop, self._pending, self._task = loop, {}, None
        futures = []
        for key in keys:
            future = self._pending.get(key)
            if future is None:
                future = self._pending[key] = loop.create_future()
            futures.append(future)
        if self._task is None:
            self._task = loop.create_task(self._run(), name="payments-live-batch")
        # Shielded: a lookup given up (its subscription ended) leaves the batch to the others.
        if len(futures) == 1:
            return [await asyncio.shield(futures[0])]
        return list(await asyncio.shield(asyncio.gather(*futures)))

    async def _run(self) -> None:
        try:
            while self._pending:
                # Once: let the lookups made in this turn of the loop join the batch.
                await asyncio.sleep(0)
                keys = list(self._pending)[: self._max_batch]
                batch = {key: self._pending.pop(key) for key in keys}
                await self._answer(batch)
        finally:
            self._task = None
            for future in self._pending.values():  # cancelled while waiting: nobody runs them
                if not future.done():
                    future.cancel()
            self._pending = {}

    async def _answer(self, batch: dict[K, asyncio.Future[V]]) -> None:
        try:
            found = await self._fetch(list(batch))
        except asyncio.CancelledError:
            for future in batch.values():
                future.cancel()
            raise
        except Exception as exc:
            for future in batch.values():
                if not future.done():
                    future.set_exception(exc)
                    future.add_done_callback(retrieve_outcome)  # every waiter may have left
            return
        for key, future in batch.items():
            if not future.done():
                future.set_result(found.get(key, self._default))
