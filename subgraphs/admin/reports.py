"""GraphQL types of the audit log and analytics (the contract's names)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry

from shared.scalars import JSON
from subgraphs.admin import analytics
from subgraphs.admin.models import AuditLog as AuditLogRow
from subgraphs.admin.types import Role, User


@strawberry.type(description="One recorded event (action names are the event names).")
class AuditLog:
    id: strawberry.ID = strawberry.field(description="The entry's id.")
    action: str = strawberry.field(
        description="The event name, `<service>:<resource>:<verb>`, e.g. `auth:user:logged_in`."
    )
    actor: User | None = strawberry.field(description="Who did it (none for system events).")
    resource_type: str | None = strawberry.field(
        description="What the event is about: `user`, `payment`, `refund` or `config`."
    )
    resource_id: str | None = strawberry.field(
        description="Its id (a user or payment id, a config key)."
    )
    details: JSON | None = strawberry.field(description="The event's data, as published.")
    ip_address: str | None = strawberry.field(
        description="The client IP the event recorded (logins, registrations), if any."
    )
    created_at: datetime = strawberry.field(description="When the event occurred.")

    @classmethod
    def from_row(cls, row: AuditLogRow) -> AuditLog:
        details: Any = row.details
        return cls(
            id=strawberry.ID(str(row.id)),
            action=row.action,
            actor=User.ref(row.actor_id) if row.actor_id else None,
            resource_type=row.resource_type,
            resource_id=row.resource_id,
            details=details,
            ip_address=row.ip_address,
            created_at=row.created_at,
        )


@strawberry.type(description="Live accounts with one role.")
class RoleCount:
    role: Role = strawberry.field(description="The role.")
    count: int = strawberry.field(description="How many live (not deleted) accounts have it.")


@strawberry.type(description="Payments created in the range with one status.")
class StatusCount:
    status: str = strawberry.field(description="A PaymentStatus value, e.g. `COMPLETED`.")
    count: int = strawberry.field(description="How many payments created in the range have it.")


@strawberry.type(
    description="Settled payments (completed or refunded) of one currency and UTC day."
)
class DailyVolume:
    day: str = strawberry.field(description="The UTC day, YYYY-MM-DD.")
    currency: str = strawberry.field(description="ISO 4217 code, e.g. `INR`.")
    payments: int = strawberry.field(description="How many settled payments.")
    amount: Decimal = strawberry.field(description="Captured amount, exact major units.")
    refunded: Decimal = strawberry.field(description="Refunded amount, exact major units.")
    net: Decimal = strawberry.field(description="amount - refunded.")


@strawberry.type(description="Figures over [from, to): payments by creation time.")
class Analytics:
    from_: datetime = strawberry.field(name="from", description="Start of the range (inclusive).")
    to: datetime = strawberry.field(description="End of the range (exclusive).")
    users_by_role: list[RoleCount] = strawberry.field(
        description="Live accounts per role now (not limited to the range)."
    )
    payments_by_status: list[StatusCount] = strawberry.field(
        description="Payments created in the range, per status (statuses with none left out)."
    )
    volume: list[DailyVolume] = strawberry.field(
        description="Settled volume by day and currency, ordered by day then currency."
    )

    @classmethod
    def from_report(cls, report: analytics.Report) -> Analytics:
        return cls(
            from_=report.since,
            to=report.until,
            users_by_role=[
                RoleCount(role=role, count=report.users_by_role.get(role.value, 0)) for role in Role
            ],
            payments_by_status=[
                StatusCount(status=status, count=count)
                for status, count in sorted(report.payments_by_status.items())
            ],
            volume=[
                DailyVolume(
                    day=v.day.isoformat(),
                    currency=v.currency,
                    payments=v.payments,
                    amount=v.amount,
                    refunded=v.refunded,
                    net=v.net,
                )
                for v in report.volume
            ],
        )
