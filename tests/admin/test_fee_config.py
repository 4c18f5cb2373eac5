"""setSystemConfig of `payments.fees`: validated by admin (bad rules store nothing), applied by
payments to the next payment to a VENDOR."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from shared.scopes import Role
from subgraphs.payments.enums import PaymentPriority
from subgraphs.payments.lifecycle import creation
from subgraphs.payments.lifecycle.creation import NewPayment
from tests.admin.test_set_config import SET, config_events
from tests.helpers import Caller, Subgraph, error_codes
from tests.payments.people import principal, registered

FEES = "payments.fees"
GOOD = {"GBP": {"INSTANT": {"percentBps": 150, "fixed": "0.20", "max": "2.00"}}}


@pytest.fixture
async def root(admin: Subgraph) -> AsyncIterator[Caller]:
    caller = admin.caller(Role.ADMIN)
    try:
        yield caller
    finally:
        await admin.ok(SET, {"key": FEES, "value": {}}, as_=caller)  # no fees again


async def stored(engine: AsyncEngine) -> Any:
    async with engine.connect() as conn:
        return await conn.scalar(
            text("SELECT value FROM admin.system_config WHERE key = 'payments.fees'")
        )


@pytest.mark.parametrize(
    "value",
    [
        {"GBP": {"INSTANT": {"percentBps": 150}}},
        {"GBP": {"INSTANT": {"percentBps": 150, "fixed": "0.001"}}},
        {"GBP": {"URGENT": {"percentBps": 150, "fixed": "0"}}},
        {"GBP": {"INSTANT": {"percentBps": 150, "fixed": "0", "min": "3", "max": "2"}}},
        {"ZZZ": {"INSTANT": {"percentBps": 150, "fixed": "0"}}},
        ["GBP"],
    ],
)
async def test_bad_rules_are_refused_and_nothing_is_stored(
    admin: Subgraph, committed_engine: AsyncEngine, root: Caller, value: Any
) -> None:
    await admin.ok(SET, {"key": FEES, "value": GOOD}, as_=root)
    before = len(await config_events(committed_engine, FEES))
    result = await admin.gql(SET, {"key": FEES, "value": value}, as_=root)
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert result["errors"][0]["extensions"]["field"] == "value"
    assert await stored(committed_engine) == GOOD
    assert len(await config_events(committed_engine, FEES)) == before


async def test_only_admin_sets_fees(admin: Subgraph) -> None:
    for role in (Role.CUSTOMER, Role.VENDOR):
        result = await admin.gql(SET, {"key": FEES, "value": GOOD}, as_=admin.caller(role))
        assert error_codes(result) == ["FORBIDDEN"]


async def test_new_rules_apply_to_the_next_payment(
    admin: Subgraph, committed_engine: AsyncEngine, root: Caller
) -> None:
    entry = (await admin.ok(SET, {"key": FEES, "value": GOOD}, as_=root))["setSystemConfig"]
    assert entry["value"] == GOOD
    assert "Platform fees" in entry["description"]
    async with async_sessionmaker(committed_engine, expire_on_commit=False)() as session:
        payee = await registered(session, Role.VENDOR)
        await session.commit()
        payment = await creation.create_payment(
            session=session,
            principal=principal(Role.CUSTOMER),
            new=NewPayment(
                amount=Decimal("50.00"),
                currency="GBP",
                payee_id=str(payee),
                priority=PaymentPriority.INSTANT,
            ),
        )
    assert payment.fee_minor == 75 + 20  # 1.5 % of 50.00 + 0.20
