"""The events the admin subgraph writes to `admin.outbox_events` (names are the contract's), each
in the same transaction as the change it describes (`shared.outbox.add_event`). The contract's
`admin:user:*` events describe account changes, so auth writes them (`subgraphs/auth/events.py`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared.outbox import add_event

SCHEMA = "admin"

CONFIG_UPDATED = "admin:config:updated"


async def record(
    session: AsyncSession,
    *,
    type: str,
    actor_id: uuid.UUID,
    data: dict[str, Any],
    now: datetime,
) -> uuid.UUID:
    return await add_event(
        session, schema=SCHEMA, type=type, actor_id=actor_id, data=data, occurred_at=now
    )
