"""payments: the double-entry ledger (append-only, balanced per transaction, hash-chained)

Revision ID: 0009_ledger
Revises: 0008_fees
Create Date: 2026-11-30 06:30:00

`ledger_entries`: one row per leg of a money movement (docs/ledger.md). Written only by
`subgraphs/payments/ledger/chain.py`, which holds the single-row `ledger_head` FOR UPDATE while it
appends, so rows get consecutive `seq` numbers and each `hash` chains to the previous row's
(`seq` is unique: a second writer cannot fork the chain). The database itself refuses:
- UPDATE, DELETE and TRUNCATE of `ledger_entries` (triggers; corrections are new reversing rows);
- a transaction whose rows of one `txn_id` do not balance per currency (debits = credits), checked
  by a deferred constraint trigger at COMMIT;
- a non-positive amount or an unknown direction (CHECK).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009_ledger"
down_revision: str | Sequence[str] | None = "0008_fees"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "payments"
TZ = sa.DateTime(timezone=True)
UUID = postgresql.UUID(as_uuid=True)
GENESIS = "0" * 64


def upgrade() -> None:
    op.create_table(
        "ledger_entries",
        sa.Column("id", UUID, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("txn_id", UUID, nullable=False),
        sa.Column("payment_id", UUID, sa.ForeignKey("payments.payments.id"), nullable=True),
        sa.Column("refund_id", UUID, nullable=True),
        sa.Column("account", sa.String(80), nullable=False),
        sa.Column("direction", sa.String(6), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.CHAR(3), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("hash", sa.CHAR(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_entries"),
        sa.UniqueConstraint("seq", name="uq_ledger_entries_seq"),
        sa.CheckConstraint("amount_minor > 0", name="ck_ledger_entries_amount_positive"),
        sa.CheckConstraint("direction IN ('DEBIT', 'CREDIT')", name="ck_ledger_entries_direction"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_ledger_entries_payment", "ledger_entries", ["payment_id", "seq"], schema=SCHEMA
    )
    op.create_index(
        "ix_ledger_entries_account", "ledger_entries", ["account", "currency"], schema=SCHEMA
    )
    op.create_index("ix_ledger_entries_created", "ledger_entries", ["created_at"], schema=SCHEMA)
    op.create_index("ix_ledger_entries_txn", "ledger_entries", ["txn_id"], schema=SCHEMA)

    op.create_table(
        "ledger_head",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.CHAR(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_head"),
        sa.CheckConstraint("id = 1", name="ck_ledger_head_single_row"),
        schema=SCHEMA,
    )
    op.execute(
        sa.text(
            "INSERT INTO payments.ledger_head (id, last_seq, last_hash) VALUES (1, 0, :genesis)"
        ).bindparams(genesis=GENESIS)
    )

    op.execute(
        """
        CREATE FUNCTION payments.ledger_entries_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'ledger_entries is append-only: % refused', TG_OP
                USING ERRCODE = 'restrict_violation';
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER ledger_entries_no_update_delete
        BEFORE UPDATE OR DELETE ON payments.ledger_entries
        FOR EACH ROW EXECUTE FUNCTION payments.ledger_entries_append_only()
        """
    )
    op.execute(
        """
        CREATE TRIGGER ledger_entries_no_truncate
        BEFORE TRUNCATE ON payments.ledger_entries
        FOR EACH STATEMENT EXECUTE FUNCTION payments.ledger_entries_append_only()
        """
    )
    op.execute(
        """
        CREATE FUNCTION payments.ledger_entries_balanced() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE
            unbalanced text;
        BEGIN
            SELECT currency INTO unbalanced
            FROM payments.ledger_entries
            WHERE txn_id = NEW.txn_id
            GROUP BY currency
            HAVING SUM(CASE direction WHEN 'DEBIT' THEN amount_minor ELSE -amount_minor END) <> 0
            LIMIT 1;
            IF unbalanced IS NOT NULL THEN
                RAISE EXCEPTION 'ledger transaction % does not balance in %', NEW.txn_id, unbalanced
                    USING ERRCODE = 'check_violation';
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        """
        CREATE CONSTRAINT TRIGGER ledger_entries_balanced
        AFTER INSERT ON payments.ledger_entries
        DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION payments.ledger_entries_balanced()
        """
    )
    op.execute(
        """
        CREATE FUNCTION payments.ledger_head_forward_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' OR NEW.last_seq < OLD.last_seq THEN
                RAISE EXCEPTION 'ledger_head only moves forward' USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER ledger_head_forward_only
        BEFORE UPDATE OR DELETE ON payments.ledger_head
        FOR EACH ROW EXECUTE FUNCTION payments.ledger_head_forward_only()
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS payments.ledger_head")
    op.execute("DROP TABLE IF EXISTS payments.ledger_entries")
    op.execute("DROP FUNCTION IF EXISTS payments.ledger_head_forward_only()")
    op.execute("DROP FUNCTION IF EXISTS payments.ledger_entries_balanced()")
    op.execute("DROP FUNCTION IF EXISTS payments.ledger_entries_append_only()")
