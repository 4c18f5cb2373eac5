"""The profile service's event consumers (both read `events:auth`: auth owns accounts):

- `profiles` creates the default (empty) profile of every user that registers
  (`auth:user:registered`); a profile that already exists is left alone.
- `avatar-removals` removes a deleted account's avatar (`admin:user:deleted`): the stored key is
  cleared and the file deleted, so its URL stops serving the picture at the origin (copies a
  browser or CDN cached under `immutable` stay theirs; a deleted account's profile is already
  hidden: `User.profile` is null for it). `updated_at` is the time of removal, not the
  event's (a late event must not move it back). The file goes before the commit;
  if the commit fails, the redelivery clears the key again, and removing a missing file is a
  no-op.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.consumers import Consumer, Event, Handler
from shared.outbox import stream_for
from subgraphs.profile import repository as repo
from subgraphs.profile.avatar_store import AvatarStore
from subgraphs.profile.models import Profile

SCHEMA = "profile"
USER_REGISTERED = "auth:user:registered"
USER_DELETED = "admin:user:deleted"


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


def remove_avatar(store: AvatarStore) -> Handler:
    async def handle(session: AsyncSession, event: Event) -> None:
        user_id = uuid.UUID(str(event.data["userId"]))
        row = await repo.find_profile_for_update(session=session, user_id=user_id)
        if row is None or row.avatar_key is None:
            return
        key, row.avatar_key, row.updated_at = row.avatar_key, None, datetime.now(UTC)
        await session.flush()
        await store.delete(key)

    return handle


def avatar_removals(store: AvatarStore) -> Consumer:
    return Consumer(
        name="avatar-removals",
        schema=SCHEMA,
        streams=(stream_for("auth"),),
        handler=remove_avatar(store),
        types=frozenset({USER_DELETED}),
    )


def consumers(store: AvatarStore) -> tuple[Consumer, ...]:
    """Run by the profile app with its outbox relay (`shared.consumers.service_events`)."""
    return (PROFILES, avatar_removals(store))
