"""Who a payment may name: `payeeId` a VENDOR, `payerId` a CUSTOMER, both live accounts.

Users belong to auth. Payments learns their roles from auth's published, read-only view
`auth.user_directory` (declared in `shared.migrations.SCHEMAS` as a read of payments; see
docs/architecture.md, "Ownership of data"): one statement inside `createPayment`'s transaction,
always current (a role change or a deletion counts at once, which a copy fed by events could
not promise), and no import of auth's code. Any other id — unknown, deleted, of another role —
is the same BAD_USER_INPUT with the same message, so the answer reveals nothing about the user.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Column, MetaData, String, Table, select
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import DateTime

from shared.errors import BadUserInput
from shared.scopes import Role

NO_SUCH_COUNTERPARTY = "No user who can take part in this payment has this id"

# auth's view (subgraphs/auth/migrations/versions/0001_initial.py); read-only here.
user_directory = Table(
    "user_directory",
    MetaData(schema="auth"),
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("deleted_at", DateTime(timezone=True)),
)


async def check_counterparties(
    *, session: AsyncSession, payer_id: uuid.UUID | None, payee_id: uuid.UUID | None
) -> None:
    """The ids the caller NAMED: the payer must be a live CUSTOMER, the payee a live VENDOR."""
    wanted = [(payer_id, Role.CUSTOMER, "payerId"), (payee_id, Role.VENDOR, "payeeId")]
    ids = [user_id for user_id, _, _ in wanted if user_id is not None]
    if not ids:
        return
    rows = await session.execute(
        select(user_directory.c.id, user_directory.c.role).where(
            user_directory.c.id.in_(ids), user_directory.c.deleted_at.is_(None)
        )
    )
    roles: dict[uuid.UUID, str] = dict(rows.all())
    for user_id, role, field in wanted:
        if user_id is not None and roles.get(user_id) != role.value:
            raise BadUserInput(NO_SUCH_COUNTERPARTY, field=field)
