"""payments: processed_events (idempotent event consumers)

Revision ID: 0005_processed_events
Revises: 0004_checkout
Create Date: 2025-02-01 00:00:00

`processed_events`: the event ids each payments consumer applied (written in the same
transaction as the consumer's effect; see docs/events.md).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005_processed_events"
down_revision: str | Sequence[str] | None = "0004_checkout"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "payments"
TZ = sa.DateTime(timezone=True)
UUID = postgresql.UUID(as_uuid=True)
NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(128), nullable=False),
        sa.Column("event_id", UUID, nullable=False),
        sa.Column("processed_at", TZ, nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("consumer", "event_id", name="pk_processed_events"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("processed_events", schema=SCHEMA)
