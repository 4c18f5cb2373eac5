"""SQL of the admin subgraph: system config (audit logs: `audit_log.py`; analytics over the
published views: `analytics.py`)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.admin.models import SystemConfig


async def list_config(*, session: AsyncSession) -> Sequence[SystemConfig]:
    return (await session.scalars(select(SystemConfig).order_by(SystemConfig.key))).all()
