"""Admin rules: reading system configuration (writes: `system_config.py`).

Every operation here is ADMIN only; that is declared on the fields (`@requiresScopes(admin)`)
and enforced by shared.authz, not re-checked here.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.admin import repository as repo
from subgraphs.admin.models import SystemConfig


async def system_config(*, session: AsyncSession) -> Sequence[SystemConfig]:
    return await repo.list_config(session=session)
