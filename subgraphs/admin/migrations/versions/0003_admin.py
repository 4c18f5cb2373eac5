"""admin: the read-only views admin and payments share (payment_settings, payment_facts)

Revision ID: 0003_admin
Revises: 0002_admin_events
Create Date: 2025-02-02 00:00:00

Two documented exceptions to "a service reads another's data only through federation or events",
of the same kind as `auth.user_directory` (docs/admin.md):

- `admin.payment_settings`: the `system_config` rows that configure payments (enabled currencies,
  limits per currency). Admin owns and validates them; payments reads them on every payment it
  creates, so a change applies without a restart.
- `payments.payment_facts`: the columns of `payments.payments` admin's analytics aggregates
  (no parties, no descriptions, no provider ids). Created here because admin is its only reader;
  it lives in the payments schema because it describes payments' table.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003_admin"
down_revision: str | Sequence[str] | None = "0002_admin_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE VIEW admin.payment_settings AS
        SELECT key, value, updated_at
        FROM admin.system_config
        WHERE key = 'payments.enabled_currencies' OR key LIKE 'payments.limits.%'
        """
    )
    op.execute(
        """
        CREATE VIEW payments.payment_facts AS
        SELECT id, status, currency, amount_minor, amount_refunded_minor, created_at
        FROM payments.payments
        """
    )
    # auditLogs(filter: {userId}) matches the actor OR the resource: index the resource side too
    # (0001 indexes actor_id).
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_audit_logs_resource_id_created_at "
        "ON admin.audit_logs (resource_id, created_at DESC)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS admin.ix_audit_logs_resource_id_created_at")
    op.execute("DROP VIEW IF EXISTS payments.payment_facts")
    op.execute("DROP VIEW IF EXISTS admin.payment_settings")
