"""payments: payments, payment_transactions, outbox_events

Revision ID: 0001_payments_initial
Revises:
Create Date: 2025-01-01 00:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001_payments_initial"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "payments"
TZ = sa.DateTime(timezone=True)
UUID = postgresql.UUID(as_uuid=True)
NOW = sa.text("now()")

STATUSES = (
    "'PENDING', 'INITIATED', 'PROCESSING', 'COMPLETED', 'FAILED', 'CANCELLED', 'REFUNDED', "
    "'PARTIALLY_REFUNDED'"
)


def upgrade() -> None:
    op.create_table(
        "payments",
        sa.Column("id", UUID, nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("amount_refunded_minor", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("currency", sa.CHAR(3), nullable=False),
        sa.Column("description", sa.String(500), nullable=True),
        sa.Column("payer_id", UUID, nullable=True),
        sa.Column("payee_id", UUID, nullable=True),
        sa.Column("created_by", UUID, nullable=False),
        sa.Column("razorpay_order_id", sa.String(64), nullable=True),
        sa.Column("razorpay_payment_id", sa.String(64), nullable=True),
        sa.Column("receipt", sa.String(40), nullable=False),
        sa.Column("created_at", TZ, nullable=False, server_default=NOW),
        sa.Column("updated_at", TZ, nullable=False, server_default=NOW),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.PrimaryKeyConstraint("id", name="pk_payments"),
        sa.UniqueConstraint("razorpay_order_id", name="uq_payments_razorpay_order_id"),
        sa.UniqueConstraint("razorpay_payment_id", name="uq_payments_razorpay_payment_id"),
        sa.UniqueConstraint("receipt", name="uq_payments_receipt"),
        sa.CheckConstraint("type IN ('INITIATE', 'PAYMENT')", name="type"),
        sa.CheckConstraint(f"status IN ({STATUSES})", name="status"),
        sa.CheckConstraint("amount_minor > 0", name="amount_positive"),
        sa.CheckConstraint(
            "amount_refunded_minor >= 0 AND amount_refunded_minor <= amount_minor",
            name="refund_within_amount",
        ),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_code"),
        # A payment request (INITIATE) always names who must pay.
        sa.CheckConstraint("type <> 'INITIATE' OR payer_id IS NOT NULL", name="initiate_has_payer"),
        schema=SCHEMA,
    )
    # Keyset listing: everything (ADMIN), and per party (payer, payee, creator).
    op.create_index(
        "ix_payments_created_at_id",
        "payments",
        [sa.text("created_at DESC"), sa.text("id DESC")],
        schema=SCHEMA,
    )
    for column in ("payer_id", "payee_id", "created_by"):
        op.create_index(
            f"ix_payments_{column}_created_at_id",
            "payments",
            [column, sa.text("created_at DESC"), sa.text("id DESC")],
            schema=SCHEMA,
        )

    op.create_table(
        "payment_transactions",
        sa.Column("id", UUID, nullable=False),
        sa.Column("payment_id", UUID, nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("from_status", sa.String(24), nullable=True),
        sa.Column("to_status", sa.String(24), nullable=True),
        sa.Column("created_at", TZ, nullable=False, server_default=NOW),
        sa.Column(
            "details", postgresql.JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")
        ),
        sa.PrimaryKeyConstraint("id", name="pk_payment_transactions"),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            [f"{SCHEMA}.payments.id"],
            name="fk_payment_transactions_payment_id_payments",
        ),
        sa.CheckConstraint("kind IN ('CREATE', 'STATUS_CHANGE', 'CAPTURE', 'REFUND')", name="kind"),
        sa.CheckConstraint("status IN ('SUCCEEDED', 'FAILED', 'PENDING')", name="status"),
        sa.CheckConstraint("amount_minor >= 0", name="amount_not_negative"),
        sa.CheckConstraint(
            f"from_status IS NULL OR from_status IN ({STATUSES})", name="from_status"
        ),
        sa.CheckConstraint(f"to_status IS NULL OR to_status IN ({STATUSES})", name="to_status"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_payment_transactions_payment_id_created_at",
        "payment_transactions",
        ["payment_id", "created_at", "id"],
        schema=SCHEMA,
    )

    op.create_table(
        "outbox_events",
        sa.Column("id", UUID, nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("occurred_at", TZ, nullable=False, server_default=NOW),
        sa.Column("actor_id", UUID, nullable=True),
        sa.Column("data", postgresql.JSONB(), nullable=False),
        sa.Column("published_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_events"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_outbox_events_unpublished",
        "outbox_events",
        ["occurred_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("published_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("outbox_events", schema=SCHEMA)
    op.drop_table("payment_transactions", schema=SCHEMA)
    op.drop_table("payments", schema=SCHEMA)
