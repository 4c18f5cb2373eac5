"""payments: refunds, reconciliation bookkeeping, new transaction kinds

Revision ID: 0004_checkout
Revises: 0003_outbox_notify
Create Date: 2025-01-04 00:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004_checkout"
down_revision: str | Sequence[str] | None = "0003_outbox_notify"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "payments"
TZ = sa.DateTime(timezone=True)
UUID = postgresql.UUID(as_uuid=True)
NOW = sa.text("now()")

OLD_KINDS = "'CREATE', 'STATUS_CHANGE', 'CAPTURE', 'REFUND'"
NEW_KINDS = (
    "'CREATE', 'STATUS_CHANGE', 'CHECKOUT', 'AUTHORIZATION', 'CAPTURE', 'VERIFY_ATTEMPT', 'REFUND'"
)
KIND_CHECK = "ck_payment_transactions_kind"


def upgrade() -> None:
    op.drop_constraint(op.f(KIND_CHECK), "payment_transactions", schema=SCHEMA, type_="check")
    op.create_check_constraint(
        "kind", "payment_transactions", f"kind IN ({NEW_KINDS})", schema=SCHEMA
    )
    # Insertion order: two steps written in one transaction share their timestamp.
    op.execute(
        f"ALTER TABLE {SCHEMA}.payment_transactions "
        "ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY"
    )
    op.add_column("payments", sa.Column("last_reconciled_at", TZ, nullable=True), schema=SCHEMA)
    # Reconciliation's queue: payments in PROCESSING or FAILED that have a Razorpay order.
    op.create_index(
        "ix_payments_reconcile",
        "payments",
        ["status", "updated_at"],
        schema=SCHEMA,
        postgresql_where=sa.text(
            "razorpay_order_id IS NOT NULL AND status IN ('PROCESSING', 'FAILED')"
        ),
    )

    op.create_table(
        "refunds",
        sa.Column("id", UUID, nullable=False),
        sa.Column("payment_id", UUID, nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.CHAR(3), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        sa.Column("razorpay_refund_id", sa.String(64), nullable=True),
        sa.Column("requested_by", UUID, nullable=True),
        sa.Column("created_at", TZ, nullable=False, server_default=NOW),
        sa.Column("updated_at", TZ, nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("id", name="pk_refunds"),
        sa.ForeignKeyConstraint(
            ["payment_id"], [f"{SCHEMA}.payments.id"], name="fk_refunds_payment_id_payments"
        ),
        sa.UniqueConstraint("idempotency_key", name="uq_refunds_idempotency_key"),
        sa.UniqueConstraint("razorpay_refund_id", name="uq_refunds_razorpay_refund_id"),
        sa.CheckConstraint("amount_minor > 0", name="amount_positive"),
        sa.CheckConstraint("status IN ('PENDING', 'PROCESSED', 'FAILED')", name="status"),
        schema=SCHEMA,
    )
    op.create_index("ix_refunds_payment_id", "refunds", ["payment_id", "created_at"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_table("refunds", schema=SCHEMA)
    op.drop_index("ix_payments_reconcile", "payments", schema=SCHEMA)
    op.drop_column("payments", "last_reconciled_at", schema=SCHEMA)
    op.drop_column("payment_transactions", "seq", schema=SCHEMA)
    op.execute(f"DELETE FROM {SCHEMA}.payment_transactions WHERE kind NOT IN ({OLD_KINDS})")  # noqa: S608
    op.drop_constraint(op.f(KIND_CHECK), "payment_transactions", schema=SCHEMA, type_="check")
    op.create_check_constraint(
        "kind", "payment_transactions", f"kind IN ({OLD_KINDS})", schema=SCHEMA
    )
