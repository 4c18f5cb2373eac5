"""The profile service's event consumers: `profiles` creates the default (empty) profile of every
user that registers (`auth:user:registered`); a profile that already exists is left alone."""

from __future__ import annotations

import uuid

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.consumers import Consumer, Event
from shared.outbox import stream_for
from subgraphs.profile.models import Profile

SCHEMA = "profile"
USER_REGISTERED = "auth:user:registered"


async def create_profile(session: AsyncSession, event: Event) -> None:
    user_id = uuid.UUID(str(event.data["userId"]))
    await session.execute(
        insert(Profile)
        .values(
            user_id=user_id,
            preferences={},
            created_at=event.occurred_at,
            updated_at=event.occurred_at,
        )
        .on_conflict_do_nothing(index_elements=[Profile.user_id])
    )


PROFILES = Consumer(
    name="profiles",
    schema=SCHEMA,
    streams=(stream_for("auth"),),
    handler=create_profile,
    types=frozenset({USER_REGISTERED}),
)

CONSUMERS = (PROFILES,)
"""Run by the profile app with its outbox relay (`shared.consumers.service_events`)."""
