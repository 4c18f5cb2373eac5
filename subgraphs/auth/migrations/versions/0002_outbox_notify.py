"""auth: outbox order (seq) and NOTIFY on insert for the relay

Revision ID: 0002_auth_outbox_notify
Revises: 0001_auth_initial
Create Date: 2025-02-01 00:00:00

`seq` is the insertion order the relay publishes in; the statement-level trigger sends
`NOTIFY auth_outbox` (delivered at commit, never for a rolled-back insert) so the relay publishes
at once instead of waiting for its poll (same as payments 0003).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared import migration_ops as hub

revision: str = "0002_auth_outbox_notify"
down_revision: str | Sequence[str] | None = "0001_auth_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "auth"


def upgrade() -> None:
    op.execute(
        f"ALTER TABLE {SCHEMA}.outbox_events ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY"
    )
    op.drop_index("ix_outbox_events_unpublished", table_name="outbox_events", schema=SCHEMA)
    hub.create_unpublished_index(SCHEMA)
    hub.create_outbox_notify(SCHEMA)


def downgrade() -> None:
    hub.drop_outbox_notify(SCHEMA)
    op.drop_index(hub.UNPUBLISHED_INDEX, table_name="outbox_events", schema=SCHEMA)
    op.create_index(
        "ix_outbox_events_unpublished",
        "outbox_events",
        ["occurred_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.execute(f"ALTER TABLE {SCHEMA}.outbox_events DROP COLUMN seq")
