"""The dead-letter stream: events a consumer gave up on (`shared/consumers.py` parks them here),
paged for ADMINs (`deadLetters`) and replayable onto the stream they came from."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from redis.asyncio import Redis

from shared.consumers import DEAD_STREAM
from shared.errors import BadUserInput

_ENTRY_ID = re.compile(r"^\d{1,20}-\d{1,20}$")


@dataclass(frozen=True)
class DeadLetter:
    entry_id: str  # its id in the dead-letter stream (the cursor)
    consumer: str
    stream: str
    source_entry_id: str
    event_id: str
    type: str
    error_type: str
    attempts: int
    parked_at: datetime
    event: dict[str, Any]

    @classmethod
    def from_entry(cls, entry_id: str, fields: Mapping[str, str]) -> DeadLetter:
        try:
            event = orjson.loads(fields.get("event", "{}"))
        except orjson.JSONDecodeError:
            event = {}
        try:
            parked_at = datetime.fromisoformat(fields.get("parkedAt", ""))
        except ValueError:
            parked_at = datetime.fromtimestamp(int(entry_id.split("-")[0]) / 1000, UTC)
        return cls(
            entry_id=entry_id,
            consumer=fields.get("consumer", ""),
            stream=fields.get("stream", ""),
            source_entry_id=fields.get("entryId", ""),
            event_id=fields.get("eventId", ""),
            type=fields.get("type", ""),
            error_type=fields.get("errorType", ""),
            attempts=int(fields.get("attempts") or 0),
            parked_at=parked_at,
            event=event if isinstance(event, dict) else {},
        )


@dataclass(frozen=True)
class DeadLetterPage:
    letters: list[DeadLetter]
    has_next_page: bool
    total_count: int = 0

    @property
    def end_cursor(self) -> str | None:
        return self.letters[-1].entry_id if self.letters else None


async def dead_letters(
    redis: Redis, *, first: int = 20, after: str | None = None, stream: str = DEAD_STREAM
) -> DeadLetterPage:
    """Parked events, newest first; `after` is the `entry_id` of the last one already seen."""
    if not 1 <= first <= 100:
        raise BadUserInput("first must be between 1 and 100", field="first")
    if after is not None and not _ENTRY_ID.match(after):
        raise BadUserInput("Invalid cursor", field="after")
    upper = f"({after}" if after else "+"
    entries: Any = await redis.xrevrange(stream, max=upper, min="-", count=first + 1)
    letters = [DeadLetter.from_entry(entry_id, fields) for entry_id, fields in entries[:first]]
    return DeadLetterPage(
        letters=letters, has_next_page=len(entries) > first, total_count=await redis.xlen(stream)
    )


async def replay_dead_letter(
    redis: Redis, entry_id: str, *, stream: str = DEAD_STREAM, maxlen: int = 100_000
) -> str | None:
    """Put a parked event back on the stream it came from (every group on that stream sees it
    again; those that applied it skip it through `processed_events`) and drop the dead letter.
    Returns the new entry id, or None when there is no such dead letter."""
    entries: Any = await redis.xrange(stream, min=entry_id, max=entry_id, count=1)
    if not entries:
        return None
    letter = DeadLetter.from_entry(*entries[0])
    if not letter.stream or not letter.event:
        raise ValueError(f"dead letter {entry_id} has no source stream or event to replay")
    async with redis.pipeline(transaction=True) as pipe:
        pipe.xadd(letter.stream, letter.event, maxlen=maxlen, approximate=True)  # type: ignore[arg-type]
        pipe.xdel(stream, entry_id)
        new_id, _ = await pipe.execute()
    return str(new_id)
