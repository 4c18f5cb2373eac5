"""payments: webhook_events (Razorpay webhook deliveries, stored before they are answered)

Revision ID: 0002_webhook_events
Revises: 0001_payments_initial
Create Date: 2025-01-02 00:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_webhook_events"
down_revision: str | Sequence[str] | None = "0001_payments_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "payments"
TZ = sa.DateTime(timezone=True)
NOW = sa.text("now()")

OUTCOMES = "'applied', 'unchanged', 'ignored', 'unknown_order', 'mismatch', 'error'"


def upgrade() -> None:
    op.create_table(
        "webhook_events",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        # Razorpay's X-Razorpay-Event-Id, or `sha256:<hex of the body>` when the header is absent.
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("event_id_source", sa.String(16), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column("body_sha256", sa.CHAR(64), nullable=False),
        sa.Column("signature_valid", sa.Boolean(), nullable=False),
        sa.Column("signed_with", sa.String(8), nullable=False),
        sa.Column("received_at", TZ, nullable=False, server_default=NOW),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("applied_at", TZ, nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("next_attempt_at", TZ, nullable=False, server_default=NOW),
        sa.Column("parked_at", TZ, nullable=True),
        sa.Column("payment_id", postgresql.UUID(as_uuid=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_events"),
        sa.UniqueConstraint("event_id", name="uq_webhook_events_event_id"),
        sa.CheckConstraint("event_id_source IN ('header', 'body_sha256')", name="event_id_source"),
        sa.CheckConstraint("signed_with IN ('current', 'previous')", name="signed_with"),
        # Only events whose signature verified are ever stored.
        sa.CheckConstraint("signature_valid", name="signature_valid"),
        sa.CheckConstraint(f"outcome IS NULL OR outcome IN ({OUTCOMES})", name="outcome"),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        sa.CheckConstraint("applied_at IS NULL OR parked_at IS NULL", name="applied_or_parked"),
        schema=SCHEMA,
    )
    # The worker's queue: events neither applied nor parked, by due time.
    op.create_index(
        "ix_webhook_events_due",
        "webhook_events",
        ["next_attempt_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("applied_at IS NULL AND parked_at IS NULL"),
    )
    op.create_index(
        "ix_webhook_events_parked",
        "webhook_events",
        ["parked_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("parked_at IS NOT NULL"),
    )
    op.create_index(
        "ix_webhook_events_payment_id",
        "webhook_events",
        ["payment_id"],
        schema=SCHEMA,
        postgresql_where=sa.text("payment_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_table("webhook_events", schema=SCHEMA)
