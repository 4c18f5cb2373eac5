"""`systemHealth` (ADMIN only): the GraphQL face of `health.py`."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from shared.scalars import JSON
from subgraphs.admin import health
from subgraphs.admin.context import Context
from subgraphs.admin.types import ADMIN


@strawberry.enum(description="How a component (or the whole system) is doing.")
class HealthStatus(Enum):
    UP = strawberry.enum_value("UP", description="Answering, within half its check's time bound.")
    DEGRADED = strawberry.enum_value(
        "DEGRADED",
        description="Working with a problem: slow, a circuit half open, or not fully known.",
    )
    DOWN = strawberry.enum_value(
        "DOWN", description="Not answering within its time bound, or answering not ready."
    )


@strawberry.enum(description="What a component is.")
class ComponentKind(Enum):
    PROCESS = strawberry.enum_value(
        "PROCESS", description="One of the product's processes: router, subgraphs, sidecar."
    )
    DEPENDENCY = strawberry.enum_value(
        "DEPENDENCY", description="Something the processes rely on: PostgreSQL, Redis, Razorpay."
    )


@strawberry.type(description="The health of one process or dependency, as checked just now.")
class ComponentHealth:
    name: str = strawberry.field(
        description="router, auth, payments, admin, profile, webhooks, postgresql, redis or "
        "razorpay."
    )
    kind: ComponentKind = strawberry.field(description="A process or a dependency.")
    status: HealthStatus = strawberry.field(description="What its check found.")
    latency_ms: float | None = strawberry.field(
        description="How long its check took, in milliseconds (none when derived from another "
        "component's check, as Razorpay's is)."
    )
    version: str | None = strawberry.field(
        description="Its version, when it reports one (the product's, PostgreSQL's, Redis's)."
    )
    details: JSON | None = strawberry.field(
        description="Operational signals: outboxPending, liveSubscriptions, the Razorpay circuit, "
        "the sidecar's event backlog, deadLetters; `error` when the check failed."
    )

    @classmethod
    def from_component(cls, component: health.Component) -> ComponentHealth:
        return cls(
            name=component.name,
            kind=ComponentKind(component.kind.value),
            status=HealthStatus(component.status.value),
            latency_ms=component.latency_ms,
            version=component.version,
            details=JSON(component.details) if component.details is not None else None,
        )


@strawberry.type(description="The health of every process and dependency of the product.")
class SystemHealth:
    status: HealthStatus = strawberry.field(
        description="DOWN when a required part is down (every process but the webhook sidecar, "
        "PostgreSQL and Redis), DEGRADED when any part is not UP, else UP."
    )
    checked_at: datetime = strawberry.field(description="When the checks finished.")
    components: list[ComponentHealth] = strawberry.field(
        description="Each process, then each dependency."
    )


async def resolve_system_health(info: Info[Context, None]) -> SystemHealth:
    context = info.context
    report = await health.check_system(
        targets=context.deps.health_targets,
        sessionmaker=context.sessionmaker,
        redis=context.redis,
    )
    return SystemHealth(
        status=HealthStatus(report.status.value),
        checked_at=report.checked_at,
        components=[ComponentHealth.from_component(c) for c in report.components],
    )


@strawberry.type
class SystemHealthQuery:
    system_health: SystemHealth = strawberry.federation.field(
        resolver=resolve_system_health,
        description="Every process and dependency checked now, concurrently, each within "
        "HEALTH_CHECK_TIMEOUT_SECONDS (ADMIN only).",
        requires_scopes=ADMIN,
    )
