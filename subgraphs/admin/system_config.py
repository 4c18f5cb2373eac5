"""Changing system configuration: a typed, validated write plus `admin:config:updated`, in one
transaction. Payments reads its keys through the view `admin.payment_settings` on every payment
it creates, so a committed change applies to the next payment without a restart."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.context import Principal
from shared.errors import BadUserInput
from subgraphs.admin import admin_events
from subgraphs.admin.config import ENABLED_CURRENCIES_KEY, LIMITS_PREFIX, config_type
from subgraphs.admin.models import SystemConfig

MAX_KEY = 128


async def _check_currencies_have_limits(session: AsyncSession, currencies: list[str]) -> None:
    """Every enabled currency needs its `payments.limits.<CODE>` row first."""
    keys = [f"{LIMITS_PREFIX}{code}" for code in currencies]
    present = set(
        (await session.scalars(select(SystemConfig.key).where(SystemConfig.key.in_(keys)))).all()
    )
    missing = [code for code, key in zip(currencies, keys, strict=True) if key not in present]
    if missing:
        raise BadUserInput(
            f"Set payments.limits.<CODE> before enabling: {', '.join(missing)}", field="value"
        )


async def set_system_config(
    *, session: AsyncSession, principal: Principal, key: str, value: Any
) -> SystemConfig:
    if len(key) > MAX_KEY:
        raise BadUserInput(f"Keys are at most {MAX_KEY} characters", field="key")
    declared = config_type(key)
    validated = declared.validate(value)
    if key == ENABLED_CURRENCIES_KEY:
        await _check_currencies_have_limits(session, validated)
    now = datetime.now(UTC)
    previous = await session.scalar(
        select(SystemConfig.value).where(SystemConfig.key == key).with_for_update()
    )
    statement = (
        insert(SystemConfig)
        .values(
            key=key,
            value=validated,
            description=declared.description,
            updated_at=now,
            updated_by=principal.id,
        )
        .on_conflict_do_update(
            index_elements=[SystemConfig.key],
            set_={"value": validated, "updated_at": now, "updated_by": principal.id},
        )
        .returning(SystemConfig)
    )
    row = (await session.scalars(statement, execution_options={"populate_existing": True})).one()
    await admin_events.record(
        session,
        type=admin_events.CONFIG_UPDATED,
        actor_id=principal.id,
        data={"key": key, "value": validated, "previous": previous},
        now=now,
    )
    await session.commit()
    return row
