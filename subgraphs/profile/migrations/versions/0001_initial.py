"""profile: profiles

Revision ID: 0001_profile_initial
Revises:
Create Date: 2025-01-01 00:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001_profile_initial"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "profile"
TZ = sa.DateTime(timezone=True)
NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "profiles",
        # The auth user's id (no foreign key across service schemas).
        sa.Column("user_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("phone", sa.String(16), nullable=True),
        sa.Column("address", sa.String(500), nullable=True),
        sa.Column("bio", sa.String(1000), nullable=True),
        sa.Column("avatar_key", sa.String(200), nullable=True),
        sa.Column(
            "preferences",
            postgresql.JSONB(),
            nullable=False,
            server_default=sa.text("'{}'::jsonb"),
        ),
        sa.Column("created_at", TZ, nullable=False, server_default=NOW),
        sa.Column("updated_at", TZ, nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("user_id", name="pk_profiles"),
        sa.CheckConstraint("phone ~ '^\\+[1-9][0-9]{1,14}$'", name="phone_e164"),
        sa.CheckConstraint("jsonb_typeof(preferences) = 'object'", name="preferences_object"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("profiles", schema=SCHEMA)
