"""admin: the read-only view admin publishes for payments (payment_settings); audit index

Revision ID: 0003_admin
Revises: 0002_admin_events
Create Date: 2025-02-02 00:00:00

`admin.payment_settings`: the `system_config` rows that configure payments (enabled currencies,
limits per currency). Admin owns and validates them; payments reads them on every payment it
creates, so a change applies without a restart. One of the published views listed in
docs/architecture.md ("Ownership of data"): each is created by the service that owns its schema.

Edited after the fact: this revision used to create `payments.payment_facts` too, inside payments'
schema, so payments could not change its own table without editing admin's history. That view is
now payments' own migration (`0006_payment_facts`). Editing an applied revision is acceptable
only because this project has no production database yet; once one exists, such a change is a
new revision.
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
    # auditLogs(filter: {userId}) matches the actor OR the resource: index the resource side too
    # (0001 indexes actor_id).
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_audit_logs_resource_id_created_at "
        "ON admin.audit_logs (resource_id, created_at DESC)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS admin.ix_audit_logs_resource_id_created_at")
    op.execute("DROP VIEW IF EXISTS admin.payment_settings")
