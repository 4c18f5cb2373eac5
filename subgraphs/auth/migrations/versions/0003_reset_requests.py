"""auth: password_reset_requests, the durable queue behind requestPasswordReset

Revision ID: 0003_auth_reset_requests
Revises: 0002_auth_outbox_notify
Create Date: 2025-03-01 00:00:00

`requestPasswordReset` only records the normalised address here (the same statement whether or
not an account has it); the mail sender's pass turns each row into a token and a mail for a live
account, or into nothing, and deletes it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_auth_reset_requests"
down_revision: str | Sequence[str] | None = "0002_auth_outbox_notify"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "auth"


def upgrade() -> None:
    op.create_table(
        "password_reset_requests",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_password_reset_requests"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_password_reset_requests_requested_at",
        "password_reset_requests",
        ["requested_at"],
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("password_reset_requests", schema=SCHEMA)
