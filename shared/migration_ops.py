"""DDL the event hub needs in every service's schema, for the services' Alembic migrations.

One definition of the outbox table, its publishing-order index, the NOTIFY trigger that wakes the
relay (`shared/outbox.py`) at commit, and the consumers' `processed_events` table. Changing these
functions changes what FUTURE migrations create; applied migrations are history, so a change to an
existing table belongs in a new migration, not here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

TZ = sa.DateTime(timezone=True)
UUID = postgresql.UUID(as_uuid=True)
NOW = sa.text("now()")
UNPUBLISHED_INDEX = "ix_outbox_events_unpublished_seq"


def create_outbox_table(schema: str) -> None:
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
        schema=schema,
    )
    create_unpublished_index(schema)


def create_unpublished_index(schema: str) -> None:
    """What the relay scans: unpublished rows in insertion order."""
    op.create_index(
        UNPUBLISHED_INDEX,
        "outbox_events",
        ["seq"],
        schema=schema,
        postgresql_where=sa.text("published_at IS NULL"),
    )


def create_outbox_notify(schema: str) -> None:
    """`NOTIFY <schema>_outbox` once per inserting statement, delivered at commit (never for a
    rolled-back insert), so the relay publishes at once instead of waiting for its poll."""
    op.execute(
        f"""
        CREATE FUNCTION {schema}.notify_outbox() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{schema}_outbox', '');
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        f"""
        CREATE TRIGGER outbox_events_notify
        AFTER INSERT ON {schema}.outbox_events
        FOR EACH STATEMENT EXECUTE FUNCTION {schema}.notify_outbox()
        """
    )


def drop_outbox_notify(schema: str) -> None:
    op.execute(f"DROP TRIGGER outbox_events_notify ON {schema}.outbox_events")
    op.execute(f"DROP FUNCTION {schema}.notify_outbox()")


def create_processed_events(schema: str) -> None:
    """The event ids each consumer of this service applied, written with the consumer's effect."""
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(128), nullable=False),
        sa.Column("event_id", UUID, nullable=False),
        sa.Column("processed_at", TZ, nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("consumer", "event_id", name="pk_processed_events"),
        schema=schema,
    )
