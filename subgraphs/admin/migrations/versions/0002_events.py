"""admin: outbox_events (+ NOTIFY trigger) and processed_events

Revision ID: 0002_admin_events
Revises: 0001_admin_initial
Create Date: 2025-02-01 00:00:00

The event hub's tables for admin (see docs/events.md): `outbox_events` (written in the same
transaction as a change; `seq` is the order the relay publishes in) with a statement trigger that
sends `NOTIFY admin_outbox` at commit, and `processed_events`, the ids each of this service's
consumers applied (written in the same transaction as the consumer's effect).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_admin_events"
down_revision: str | Sequence[str] | None = "0001_admin_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "admin"
TZ = sa.DateTime(timezone=True)
UUID = postgresql.UUID(as_uuid=True)
NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "outbox_events",
        sa.Column("id", UUID, nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("occurred_at", TZ, nullable=False, server_default=NOW),
        sa.Column("actor_id", UUID, nullable=True),
        sa.Column("data", postgresql.JSONB(), nullable=False),
        sa.Column("published_at", TZ, nullable=True),
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_events"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_outbox_events_unpublished_seq",
        "outbox_events",
        ["seq"],
        schema=SCHEMA,
        postgresql_where=sa.text("published_at IS NULL"),
    )

    op.execute(
        f"""
        CREATE FUNCTION {SCHEMA}.notify_outbox() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{SCHEMA}_outbox', '');
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        f"""
        CREATE TRIGGER outbox_events_notify
        AFTER INSERT ON {SCHEMA}.outbox_events
        FOR EACH STATEMENT EXECUTE FUNCTION {SCHEMA}.notify_outbox()
        """
    )

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
    op.execute(f"DROP TRIGGER outbox_events_notify ON {SCHEMA}.outbox_events")
    op.execute(f"DROP FUNCTION {SCHEMA}.notify_outbox()")
    op.drop_table("outbox_events", schema=SCHEMA)
