"""auth: TOTP credentials, recovery codes, the sign-in methods (amr) of each session

Revision ID: 0004_auth_mfa
Revises: 0003_auth_reset_requests
Create Date: 2025-03-02 00:00:00

`totp_credentials.secret_encrypted` is AES-256-GCM ciphertext (the key comes from the secret
store, never the database); `recovery_codes.code_hash` is a keyed hash; `refresh_tokens.amr`
keeps a session's sign-in methods so refreshed access tokens carry the same `amr` claim.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004_auth_mfa"
down_revision: str | Sequence[str] | None = "0003_auth_reset_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "auth"
TZ = sa.DateTime(timezone=True)
UUID = postgresql.UUID(as_uuid=True)


def upgrade() -> None:
    op.add_column(
        "refresh_tokens",
        sa.Column("amr", sa.String(64), nullable=False, server_default="pwd"),
        schema=SCHEMA,
    )
    op.create_table(
        "totp_credentials",
        sa.Column("user_id", UUID, nullable=False),
        sa.Column("secret_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("confirmed_at", TZ, nullable=True),
        sa.Column("last_used_step", sa.BigInteger(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_totp_credentials"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            [f"{SCHEMA}.users.id"],
            name="fk_totp_credentials_user_id_users",
            ondelete="CASCADE",
        ),
        schema=SCHEMA,
    )
    op.create_table(
        "recovery_codes",
        sa.Column("id", UUID, nullable=False),
        sa.Column("user_id", UUID, nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("used_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_recovery_codes"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            [f"{SCHEMA}.users.id"],
            name="fk_recovery_codes_user_id_users",
            ondelete="CASCADE",
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "uq_recovery_codes_user_id_code_hash",
        "recovery_codes",
        ["user_id", "code_hash"],
        unique=True,
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("recovery_codes", schema=SCHEMA)
    op.drop_table("totp_credentials", schema=SCHEMA)
    op.drop_column("refresh_tokens", "amr", schema=SCHEMA)
