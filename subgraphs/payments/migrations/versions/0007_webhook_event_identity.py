"""payments: webhook events deduplicated on Razorpay's identity; an index for pruning

Revision ID: 0007_webhook_event_identity
Revises: 0006_payment_facts
Create Date: 2026-11-30 00:00:00

`webhook_events.provider_key` is Razorpay's own identity of an event, taken from the signed body
(`webhooks.payloads.provider_key`: type, entity id, entity status, created_at), unique, so a
captured body re-sent under a new `X-Razorpay-Event-Id` (the header is not signed) is a
duplicate. Rows stored before this revision are given their key in SQL; where several share one,
the earliest keeps it. A partial index on `applied_at` serves the retention pruning.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_webhook_event_identity"
down_revision: str | Sequence[str] | None = "0006_payment_facts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "payments"


def upgrade() -> None:
    op.add_column("webhook_events", sa.Column("provider_key", sa.String(200)), schema=SCHEMA)
    op.execute(
        """
        WITH keyed AS (
            SELECT id, received_at,
                   event_type || '|' || left(e ->> 'id', 64) || '|'
                   || left(coalesce(e ->> 'status', ''), 32) || '|'
                   || coalesce(payload ->> 'created_at', '') AS key
            FROM (
                SELECT id, received_at, event_type, payload,
                       payload -> 'payload' -> split_part(event_type, '.', 1) -> 'entity' AS e
                FROM payments.webhook_events
            ) AS events
            WHERE jsonb_typeof(e) = 'object' AND coalesce(e ->> 'id', '') <> ''
        ),
        firsts AS (
            SELECT DISTINCT ON (key) id, key FROM keyed ORDER BY key, received_at, id
        )
        UPDATE payments.webhook_events AS w SET provider_key = firsts.key
        FROM firsts WHERE w.id = firsts.id
        """
    )
    op.create_unique_constraint(
        "uq_webhook_events_provider_key", "webhook_events", ["provider_key"], schema=SCHEMA
    )
    op.create_index(
        "ix_webhook_events_applied_at",
        "webhook_events",
        ["applied_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("applied_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_events_applied_at", table_name="webhook_events", schema=SCHEMA)
    op.drop_constraint(
        "uq_webhook_events_provider_key", "webhook_events", schema=SCHEMA, type_="unique"
    )
    op.drop_column("webhook_events", "provider_key", schema=SCHEMA)
