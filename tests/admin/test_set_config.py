"""setSystemConfig: typed writes with an event, and payments honouring them without a restart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from shared.errors import BadUserInput
from shared.scopes import Role
from subgraphs.admin.config import DEFAULTS
from subgraphs.payments.lifecycle import creation
from subgraphs.payments.lifecycle.limits import load_payment_settings, parse_payment_settings
from tests.helpers import Caller, Subgraph, error_codes
from tests.payments.people import new, principal

SET = """mutation S($key: String!, $value: JSON!) {
  setSystemConfig(key: $key, value: $value) {
    key value description updatedAt updatedBy { id } } }"""
INR = "payments.limits.INR"
CURRENCIES = "payments.enabled_currencies"


@pytest.fixture
async def restore_config(admin: Subgraph) -> AsyncIterator[Caller]:
    """An ADMIN caller; the seeded payment configuration is put back afterwards."""
    root = admin.caller(Role.ADMIN)
    try:
        yield root
    finally:
        for key in (CURRENCIES, INR):
            await admin.ok(SET, {"key": key, "value": DEFAULTS[key]}, as_=root)


async def config_events(engine: AsyncEngine, key: str) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT type, actor_id, data FROM admin.outbox_events "
                "WHERE type = 'admin:config:updated' AND data->>'key' = :key ORDER BY seq"
            ),
            {"key": key},
        )
        return [dict(r._mapping) for r in rows]


async def try_payment(engine: AsyncEngine, amount: str, currency: str = "INR") -> None:
    """What createPayment runs, in a transaction of its own (committed when it succeeds)."""
    async with async_sessionmaker(engine, expire_on_commit=False)() as session:
        await creation.create_payment(
            session=session, principal=principal(Role.CUSTOMER), new=new(amount, currency=currency)
        )


async def test_only_admin_may_set_config(admin: Subgraph) -> None:
    variables = {"key": INR, "value": DEFAULTS[INR]}
    assert error_codes(await admin.gql(SET, variables)) == ["UNAUTHENTICATED"]
    for role in (Role.CUSTOMER, Role.VENDOR):
        assert error_codes(await admin.gql(SET, variables, as_=admin.caller(role))) == ["FORBIDDEN"]
    unsigned = await admin.gql(SET, variables, as_=admin.caller(Role.ADMIN), signed=False)
    assert error_codes(unsigned) == ["FORBIDDEN"]


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("feature.flags", {}, "key"),
        ("payments.limits.inr", DEFAULTS[INR], "key"),
        ("x" * 200, 1, "key"),
        (INR, {**DEFAULTS[INR], "minimum": 1}, "value"),
        (INR, {**DEFAULTS[INR], "daily": "1.00"}, "value"),
        (CURRENCIES, ["INR", "INR"], "value"),
        (CURRENCIES, ["INR", "JPY"], "value"),  # JPY has no limits row yet
    ],
)
async def test_invalid_values_are_refused(
    admin: Subgraph, committed_engine: AsyncEngine, key: str, value: Any, field: str
) -> None:
    before = len(await config_events(committed_engine, key))
    result = await admin.gql(SET, {"key": key, "value": value}, as_=admin.caller(Role.ADMIN))
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert result["errors"][0]["extensions"]["field"] == field
    assert len(await config_events(committed_engine, key)) == before


async def test_a_new_limit_applies_to_the_next_payment(
    admin: Subgraph, committed_engine: AsyncEngine, restore_config: Caller
) -> None:
    await try_payment(committed_engine, "600.00")  # within the seeded limits
    lowered = {"minimum": "1.00", "perTransaction": "500.00", "daily": "5000.00", "monthly": "9000"}
    data = await admin.ok(SET, {"key": INR, "value": lowered}, as_=restore_config)
    entry = data["setSystemConfig"]
    assert entry["value"] == lowered
    assert entry["updatedBy"] == {"id": str(restore_config.id)}
    assert "INR payment limits" in entry["description"]

    with pytest.raises(BadUserInput, match=r"500\.00 INR"):
        await try_payment(committed_engine, "600.00")
    await try_payment(committed_engine, "500.00")

    events = await config_events(committed_engine, INR)
    assert events[-1]["actor_id"] == restore_config.id
    assert events[-1]["data"] == {"key": INR, "value": lowered, "previous": DEFAULTS[INR]}

    listed = await admin.ok("{ systemConfig { key value } }", as_=restore_config)
    assert {e["key"]: e["value"] for e in listed["systemConfig"]}[INR] == lowered


async def test_disabling_a_currency_applies_to_the_next_payment(
    admin: Subgraph, committed_engine: AsyncEngine, restore_config: Caller
) -> None:
    await try_payment(committed_engine, "5.00", "GBP")
    await admin.ok(SET, {"key": CURRENCIES, "value": ["INR", "USD"]}, as_=restore_config)
    with pytest.raises(BadUserInput, match="GBP is not enabled") as caught:
        await try_payment(committed_engine, "5.00", "GBP")
    assert caught.value.extensions["field"] == "currency"
    await try_payment(committed_engine, "5.00", "USD")


async def test_payments_reads_the_view(committed_engine: AsyncEngine) -> None:
    async with async_sessionmaker(committed_engine)() as session:
        settings = await load_payment_settings(session)
    assert settings.enabled_currencies == frozenset(DEFAULTS[CURRENCIES])
    inr = settings.limits_for("INR")
    assert inr is not None
    assert inr.per_transaction == Decimal("500000.00")
    assert settings.limits_for("JPY") is None
    # A row that does not parse disables its currency rather than guessing.
    parsed = parse_payment_settings(
        {CURRENCIES: ["INR", "USD"], INR: {"minimum": "x"}, "payments.limits.USD": DEFAULTS[INR]}
    )
    assert parsed.limits_for("INR") is None
    assert parsed.limits_for("USD") is not None
    assert parse_payment_settings({}).enabled_currencies == frozenset()
