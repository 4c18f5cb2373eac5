"""admin: payment_settings also publishes `payments.fees`

Revision ID: 0004_payment_fees_setting
Revises: 0003_admin
Create Date: 2026-11-30 06:00:00

The fee rules per currency and priority (validated by `shared.fee_rules` on every write) are a
payments setting like the limits: the view payments reads now includes the key.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004_payment_fees_setting"
down_revision: str | Sequence[str] | None = "0003_admin"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE OR REPLACE VIEW admin.payment_settings AS
        SELECT key, value, updated_at
        FROM admin.system_config
        WHERE key = 'payments.enabled_currencies' OR key LIKE 'payments.limits.%'
           OR key = 'payments.fees'
        """
    )


def downgrade() -> None:
    op.execute(
        """
        CREATE OR REPLACE VIEW admin.payment_settings AS
        SELECT key, value, updated_at
        FROM admin.system_config
        WHERE key = 'payments.enabled_currencies' OR key LIKE 'payments.limits.%'
        """
    )
