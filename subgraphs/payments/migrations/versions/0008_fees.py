"""payments: settlement priority and the platform fee fixed at creation

Revision ID: 0008_fees
Revises: 0007_webhook_event_identity
Create Date: 2026-11-30 06:00:00

`priority` (STANDARD | INSTANT) and `fee_minor` (the platform fee in minor units, computed from
admin's `payments.fees` rules when the payment is created, never above the amount). Existing
payments get STANDARD and a fee of 0.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_fees"
down_revision: str | Sequence[str] | None = "0007_webhook_event_identity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "payments"


def upgrade() -> None:
    op.add_column(
        "payments",
        sa.Column("priority", sa.String(16), nullable=False, server_default="STANDARD"),
        schema=SCHEMA,
    )
    op.add_column(
        "payments",
        sa.Column("fee_minor", sa.BigInteger(), nullable=False, server_default="0"),
        schema=SCHEMA,
    )
    op.create_check_constraint(
        "priority", "payments", "priority IN ('STANDARD', 'INSTANT')", schema=SCHEMA
    )
    op.create_check_constraint(
        "fee_minor", "payments", "fee_minor >= 0 AND fee_minor <= amount_minor", schema=SCHEMA
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_payments_fee_minor"), "payments", schema=SCHEMA, type_="check")
    op.drop_constraint(op.f("ck_payments_priority"), "payments", schema=SCHEMA, type_="check")
    op.drop_column("payments", "fee_minor", schema=SCHEMA)
    op.drop_column("payments", "priority", schema=SCHEMA)
