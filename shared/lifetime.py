"""What a service process holds for its lifetime, and the one shape of its background parts.

`Resources` is built by an app's lifespan (the subgraph factory in `shared.app`, the webhook
sidecar) once the engine and Redis exist. Every background part (outbox relay, event consumers,
mail sender, reconciler, webhook worker) is a `Background`: `start(resources)` at start-up,
`stop()` at shut-down, each part holding its own state. `running` starts a list of them in order
and stops the started ones in reverse, whatever happens in between; the parts bound their own
stop with `shared.tasks.stop_tasks`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.config import Settings

log = logging.getLogger("bff.lifetime")


@dataclass(frozen=True)
class Resources:
    """The process's engine, sessions and Redis client, and the settings they came from."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis


class Background(Protocol):
    """A part of an app that runs beside the requests for the app's lifetime."""

    async def start(self, resources: Resources) -> None: ...

    async def stop(self) -> None: ...


@asynccontextmanager
async def running(parts: Sequence[Background], resources: Resources) -> AsyncIterator[None]:
    """Start `parts` in order; on exit (or when one fails to start) stop those started, last
    first. A part that fails to stop is logged and the others are still stopped."""
    started: list[Background] = []
    try:
        for part in parts:
            await part.start(resources)
            started.append(part)
        yield
    finally:
        for part in reversed(started):
            try:
                await part.stop()
            except Exception as exc:
                log.error(
                    "background part did not stop cleanly",
                    extra={"part": type(part).__name__, "error_type": type(exc).__name__},
                )
