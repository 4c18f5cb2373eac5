"""payments: the read-only view payment_facts (published for admin's analytics)

Revision ID: 0006_payment_facts
Revises: 0005_processed_events
Create Date: 2025-03-01 00:00:00

`payments.payment_facts` is the part of `payments.payments` another service may read: the columns
admin's `analytics` aggregates (no parties, descriptions or provider ids). Payments owns it, so a
change to `payments.payments` that touches these columns recreates it in the same migration
(`CREATE OR REPLACE VIEW`) and nobody else's history is involved. Until this revision admin's
migration 0003 created the view; that revision was edited to stop doing so (there is no
production database yet, so no deployed history had to be kept). See docs/architecture.md
("Ownership of data") for every published view and its owner.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006_payment_facts"
down_revision: str | Sequence[str] | None = "0005_processed_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE OR REPLACE VIEW payments.payment_facts AS
        SELECT id, status, currency, amount_minor, amount_refunded_minor, created_at
        FROM payments.payments
        """
    )


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS payments.payment_facts")
