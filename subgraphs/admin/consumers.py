"""The admin service's event consumers: `audit` writes every event of every service's stream to
`admin.audit_logs` (action = the event type; see docs/events.md for the audit model)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.consumers import ALL_STREAMS, Consumer, Event
from subgraphs.admin.models import AuditLog

SCHEMA = "admin"

# The resource an event is about, by the middle part of its type (`<service>:<resource>:<verb>`):
# (resource_type, the data key holding its id).
RESOURCES: dict[str, tuple[str, str]] = {
    "user": ("user", "userId"),
    "password": ("user", "userId"),
    "payment": ("payment", "paymentId"),
    "verification": ("payment", "paymentId"),
    "refund": ("refund", "refundId"),
    "config": ("config", "key"),
}


def resource_of(event: Event) -> tuple[str | None, str | None]:
    """`(resource_type, resource_id)` derived from the event's type and data."""
    parts = event.type.split(":")
    noun = parts[1] if len(parts) == 3 else ""
    resource_type, key = RESOURCES.get(noun, (noun or None, f"{noun}Id"))
    value = event.data.get(key)
    if value is None and noun not in RESOURCES:
        for fallback in ("paymentId", "userId", "key"):
            if (value := event.data.get(fallback)) is not None:
                break
    return resource_type, (str(value)[:128] if value is not None else None)


def ip_of(data: dict[str, Any]) -> str | None:
    value = data.get("ip") or data.get("ipAddress")
    return str(value)[:64] if value else None


async def record_audit(session: AsyncSession, event: Event) -> None:
    resource_type, resource_id = resource_of(event)
    await session.execute(
        insert(AuditLog)
        .values(
            action=event.type,
            actor_id=event.actor_id,
            resource_type=resource_type,
            resource_id=resource_id,
            details=event.data,
            ip_address=ip_of(event.data),
            created_at=event.occurred_at,
            event_id=event.id,
        )
        .on_conflict_do_nothing(index_elements=[AuditLog.event_id])
    )


AUDIT = Consumer(name="audit", schema=SCHEMA, streams=ALL_STREAMS, handler=record_audit)

CONSUMERS = (AUDIT,)
"""Run by the admin app with its outbox relay (`shared.consumers.service_events`)."""
