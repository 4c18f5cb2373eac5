"""profile: outbox_events (+ NOTIFY trigger) and processed_events

Revision ID: 0002_profile_events
Revises: 0001_profile_initial
Create Date: 2025-02-01 00:00:00

The event hub's tables for profile (see docs/events.md): `outbox_events` (written in the same
transaction as a change; `seq` is the order the relay publishes in) with a statement trigger that
sends `NOTIFY profile_outbox` at commit, and `processed_events`, the ids each of this service's
consumers applied (written in the same transaction as the consumer's effect).
"""

from collections.abc import Sequence

from alembic import op

from shared import migration_ops as hub

revision: str = "0002_profile_events"
down_revision: str | Sequence[str] | None = "0001_profile_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "profile"


def upgrade() -> None:
    hub.create_outbox_table(SCHEMA)
    hub.create_outbox_notify(SCHEMA)
    hub.create_processed_events(SCHEMA)


def downgrade() -> None:
    op.drop_table("processed_events", schema=SCHEMA)
    hub.drop_outbox_notify(SCHEMA)
    op.drop_table("outbox_events", schema=SCHEMA)
