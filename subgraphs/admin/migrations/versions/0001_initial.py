"""admin: audit_logs, system_config (seeded with payment limits and enabled currencies)

Revision ID: 0001_admin_initial
Revises:
Create Date: 2025-01-01 00:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001_admin_initial"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "admin"
TZ = sa.DateTime(timezone=True)
UUID = postgresql.UUID(as_uuid=True)
NOW = sa.text("now()")

# The initial configuration (amounts are Decimal strings in major units: never floats).
# Keep in step with subgraphs/admin/config.py (DEFAULTS), which types and validates every key.
SEED: list[tuple[str, object, str]] = [
    (
        "payments.enabled_currencies",
        ["INR", "USD", "EUR", "GBP"],
        "ISO 4217 codes payments may be created in.",
    ),
    (
        "payments.limits.INR",
        {
            "minimum": "1.00",
            "perTransaction": "500000.00",
            "daily": "1000000.00",
            "monthly": "5000000.00",
        },
        "INR payment limits per user: minimum and maximum per payment, daily and monthly totals.",
    ),
    (
        "payments.limits.USD",
        {
            "minimum": "0.50",
            "perTransaction": "10000.00",
            "daily": "20000.00",
            "monthly": "100000.00",
        },
        "USD payment limits per user: minimum and maximum per payment, daily and monthly totals.",
    ),
    (
        "payments.limits.EUR",
        {
            "minimum": "0.50",
            "perTransaction": "10000.00",
            "daily": "20000.00",
            "monthly": "100000.00",
        },
        "EUR payment limits per user: minimum and maximum per payment, daily and monthly totals.",
    ),
    (
        "payments.limits.GBP",
        {
            "minimum": "0.30",
            "perTransaction": "8000.00",
            "daily": "16000.00",
            "monthly": "80000.00",
        },
        "GBP payment limits per user: minimum and maximum per payment, daily and monthly totals.",
    ),
]


def upgrade() -> None:
    op.create_table(
        "audit_logs",
        sa.Column("id", UUID, nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("actor_id", UUID, nullable=True),
        sa.Column("resource_type", sa.String(64), nullable=True),
        sa.Column("resource_id", sa.String(128), nullable=True),
        sa.Column(
            "details", postgresql.JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")
        ),
        sa.Column("ip_address", sa.String(64), nullable=True),
        sa.Column("created_at", TZ, nullable=False, server_default=NOW),
        # The outbox event this entry records: consuming an event twice writes one entry.
        sa.Column("event_id", UUID, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_logs"),
        sa.UniqueConstraint("event_id", name="uq_audit_logs_event_id"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_audit_logs_created_at_id",
        "audit_logs",
        [sa.text("created_at DESC"), sa.text("id DESC")],
        schema=SCHEMA,
    )
    op.create_index(
        "ix_audit_logs_action_created_at",
        "audit_logs",
        ["action", sa.text("created_at DESC")],
        schema=SCHEMA,
    )
    op.create_index(
        "ix_audit_logs_actor_id_created_at",
        "audit_logs",
        ["actor_id", sa.text("created_at DESC")],
        schema=SCHEMA,
    )

    config = op.create_table(
        "system_config",
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("value", postgresql.JSONB(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("updated_at", TZ, nullable=False, server_default=NOW),
        sa.Column("updated_by", UUID, nullable=True),
        sa.PrimaryKeyConstraint("key", name="pk_system_config"),
        sa.CheckConstraint("key ~ '^[a-z][a-z0-9_]*(\\.[a-zA-Z0-9_]+)*$'", name="key_format"),
        schema=SCHEMA,
    )
    op.bulk_insert(
        config,
        [{"key": k, "value": v, "description": d} for k, v, d in SEED],
    )


def downgrade() -> None:
    op.drop_table("system_config", schema=SCHEMA)
    op.drop_table("audit_logs", schema=SCHEMA)
