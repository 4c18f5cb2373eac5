"""payments: processed_events (idempotent event consumers)

Revision ID: 0005_processed_events
Revises: 0004_checkout
Create Date: 2025-02-01 00:00:00

`processed_events`: the event ids each payments consumer applied (written in the same
transaction as the consumer's effect; see docs/events.md).
"""

from collections.abc import Sequence

from alembic import op

from shared import migration_ops as hub

revision: str = "0005_processed_events"
down_revision: str | Sequence[str] | None = "0004_checkout"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "payments"


def upgrade() -> None:
    hub.create_processed_events(SCHEMA)


def downgrade() -> None:
    op.drop_table("processed_events", schema=SCHEMA)
