"""Avatar rules: replace or remove the caller's avatar.

Uploads are rate limited per user (`ProfileDeps.upload_limit`: RATE_LIMITED with `retryAfter`)
before a byte is read, since each one costs a decode. The new file is written before the row
changes and the old file is removed only after the change commits, so the stored key always
names a file. Concurrent changes of one user's avatar are serialised by the row lock; a file
written for a change that then fails is removed.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from shared.ratelimit import RateLimit, RateLimiter
from subgraphs.profile import repository as repo
from subgraphs.profile.avatar_store import AvatarStore
from subgraphs.profile.images import Readable, read_limited, reencode
from subgraphs.profile.service import ProfileData


async def upload_avatar(
    *,
    session: AsyncSession,
    store: AvatarStore,
    user_id: uuid.UUID,
    upload: Readable,
    redis: Redis,
    limit: RateLimit,
    now: datetime | None = None,
) -> ProfileData:
    await RateLimiter(redis, prefix="rl:profile").hit((limit, str(user_id)))
    data = await read_limited(upload)
    image = await asyncio.to_thread(reencode, data)
    key = await store.save(image)
    try:
        now = now or datetime.now(UTC)
        row = await repo.lock_profile(session=session, user_id=user_id, now=now)
        old_key = row.avatar_key
        row.avatar_key = key
        row.updated_at = now
        await session.flush()
        result = ProfileData.from_row(row)
        await session.commit()
    except BaseException:
        await store.delete(key)
        raise
    if old_key and old_key != key:
        await store.delete(old_key)
    return result


async def delete_avatar(
    *,
    session: AsyncSession,
    store: AvatarStore,
    user_id: uuid.UUID,
    now: datetime | None = None,
) -> ProfileData:
    row = await repo.find_profile_for_update(session=session, user_id=user_id)
    if row is None:
        await session.commit()
        return ProfileData(user_id=user_id)
    old_key = row.avatar_key
    if old_key is not None:
        row.avatar_key = None
        row.updated_at = now or datetime.now(UTC)
        await session.flush()
    result = ProfileData.from_row(row)
    await session.commit()
    await store.delete(old_key)
    return result
