"""`deadLetters`: the events consumers gave up on (the `events:dead` stream), newest first, for
an ADMIN to inspect (and replay: docs/events.md)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from shared import dead_letters as parked
from shared.pagination import After, Connection, Edge, First, PageInfo
from shared.scalars import JSON
from subgraphs.admin.context import Context
from subgraphs.admin.types import ADMIN


@strawberry.type(description="An event a consumer could not apply, parked after its last attempt.")
class DeadLetter:
    id: strawberry.ID = strawberry.field(description="Its entry id in the dead-letter stream.")
    consumer: str = strawberry.field(description="The consumer group that gave up on it.")
    stream: str = strawberry.field(description="The stream the event was read from.")
    event_id: str = strawberry.field(description="The event's own id (the envelope's `id`).")
    type: str = strawberry.field(description="The event name, e.g. `payments:payment:completed`.")
    error_type: str = strawberry.field(description="The exception type of the last attempt.")
    attempts: int = strawberry.field(description="How many times the consumer tried it.")
    parked_at: datetime = strawberry.field(description="When it was parked.")
    event: JSON = strawberry.field(description="The original envelope, as read from the stream.")

    @classmethod
    def from_letter(cls, letter: parked.DeadLetter) -> DeadLetter:
        return cls(
            id=strawberry.ID(letter.entry_id),
            consumer=letter.consumer,
            stream=letter.stream,
            event_id=letter.event_id,
            type=letter.type,
            error_type=letter.error_type,
            attempts=letter.attempts,
            parked_at=letter.parked_at,
            event=JSON(letter.event),
        )


async def resolve_dead_letters(
    info: Info[Context, None], first: First = 20, after: After = None
) -> Connection[DeadLetter]:
    page = await parked.dead_letters(
        info.context.redis, first=20 if first is None else first, after=after
    )
    edges = [
        Edge(cursor=letter.entry_id, node=DeadLetter.from_letter(letter)) for letter in page.letters
    ]

    async def total() -> int:
        return page.total_count

    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=page.end_cursor,
        ),
        _count=total,
    )


@strawberry.type
class DeadLetterQuery:
    dead_letters: Connection[DeadLetter] = strawberry.federation.field(
        resolver=resolve_dead_letters,
        description="Events parked in the dead-letter stream, newest first (ADMIN only).",
        requires_scopes=ADMIN,
    )
