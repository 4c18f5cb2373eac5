"""Every service's migration history applies, rolls back to nothing and applies again; the order
across services comes from what each declares it needs; the views in each schema are exactly the
ones its owner publishes, and no schema's objects use another's unless declared."""

from __future__ import annotations

import ast
import asyncio
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from shared import migrations
from shared.config import REPO_ROOT
from shared.db import async_url
from shared.migrations import (
    SCHEMAS,
    SERVICES,
    MigrationOrderError,
    SharedSchema,
    downgrade_all,
    migration_order,
    upgrade_all,
)


def needs(**graph: set[str]) -> dict[str, SharedSchema]:
    return {name: SharedSchema(needs=frozenset(deps)) for name, deps in graph.items()}


def test_the_order_puts_every_service_after_what_it_needs() -> None:
    assert migration_order(needs(a={"c"}, b=set(), c={"b"}, d=set())) == ("b", "c", "a", "d")
    assert migration_order(needs(a=set(), b=set())) == ("a", "b")  # ties: declaration order
    order = migration_order()
    assert sorted(order) == sorted(SERVICES)
    for service, schema in SCHEMAS.items():
        assert all(order.index(dep) < order.index(service) for dep in schema.needs)


@pytest.mark.parametrize(
    ("graph", "message"),
    [
        (needs(a={"b"}, b={"a"}, c=set()), "cycle among: a, b"),
        (needs(a={"a"}), "cycle among: a"),
        (needs(a={"b"}, b={"c"}, c={"a"}), "cycle among: a, b, c"),
        (needs(a={"ghost"}), "a needs unknown service(s): ghost"),
    ],
)
def test_a_cycle_or_an_unknown_service_is_refused(
    graph: dict[str, SharedSchema], message: str
) -> None:
    with pytest.raises(MigrationOrderError, match=re.escape(message)):
        migration_order(graph)


@pytest.mark.parametrize("read", ["b.missing", "a.mine", "ghost.view"])
def test_reading_a_view_nobody_else_publishes_is_refused(read: str) -> None:
    schemas = {
        "a": SharedSchema(publishes=frozenset({"mine"}), reads=frozenset({read})),
        "b": SharedSchema(publishes=frozenset({"shown"})),
    }
    with pytest.raises(MigrationOrderError, match=re.escape(f"publishes: {read}")):
        migration_order(schemas)


def test_upgrade_all_follows_the_computed_order(monkeypatch: pytest.MonkeyPatch) -> None:
    applied: list[str] = []
    monkeypatch.setattr(migrations, "upgrade", lambda service, url: applied.append(service))
    upgrade_all("postgresql://unused", needs(profile={"admin"}, admin={"auth"}, auth=set()))
    assert applied == ["auth", "admin", "profile"]
    applied.clear()
    with pytest.raises(MigrationOrderError):
        upgrade_all("postgresql://unused", needs(auth={"admin"}, admin={"auth"}))
    assert applied == []  # refused before anything is applied


QUALIFIED = re.compile(rf"\b({'|'.join(SERVICES)})\.([a-z_]+)")


def sql_of_migrations(service: str) -> Iterator[tuple[str, str]]:
    """(file name, SQL) of every `op.execute(...)` in the service's migrations: the literal parts
    of f-strings included, SQL string literals emptied."""
    versions = REPO_ROOT / "subgraphs" / service / "migrations" / "versions"
    for path in sorted(versions.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "execute"
                and node.args
            ):
                parts = [n.value for n in ast.walk(node.args[0]) if isinstance(n, ast.Constant)]
                sql = " ".join(str(part) for part in parts)
                yield path.name, re.sub(r"'[^']*'", "''", sql)  # not inside SQL string literals


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_write_only_their_own_schema(service: str) -> None:
    """A migration names another schema only to use a published view of a service it needs
    (so admin can no longer create a view inside payments' schema, as 0003 once did)."""
    for name, sql in sql_of_migrations(service):
        for schema, obj in QUALIFIED.findall(sql):
            if schema != service:
                assert schema in SCHEMAS[service].needs, (name, f"{schema}.{obj}")
                assert obj in SCHEMAS[schema].publishes, (name, f"{schema}.{obj}")


async def _rows(engine: AsyncEngine, sql: str) -> set[tuple[str, ...]]:
    async with engine.connect() as conn:
        return {tuple(row) for row in await conn.execute(text(sql), {"s": list(SERVICES)})}


async def test_views_and_references_follow_the_declarations(committed_engine: AsyncEngine) -> None:
    views = await _rows(
        committed_engine,
        "SELECT table_schema, table_name FROM information_schema.views "
        "WHERE table_schema = ANY(:s)",
    )
    assert views == {(owner, view) for owner, s in SCHEMAS.items() for view in s.publishes}
    # What a view or a foreign key of one schema uses in another schema: only the published
    # views of the services it declares it needs (none today: every view reads its own tables).
    crossing = await _rows(
        committed_engine,
        "SELECT view_schema, table_schema, table_name FROM information_schema.view_table_usage "
        "WHERE view_schema = ANY(:s) AND table_schema <> view_schema "
        "UNION SELECT c.table_schema, u.table_schema, u.table_name "
        "FROM information_schema.table_constraints c "
        "JOIN information_schema.constraint_table_usage u "
        "ON u.constraint_schema = c.constraint_schema AND u.constraint_name = c.constraint_name "
        "WHERE c.constraint_type = 'FOREIGN KEY' AND c.table_schema = ANY(:s) "
        "AND u.table_schema <> c.table_schema",
    )
    for user, owner, name in crossing:
        assert owner in SCHEMAS[user].needs, (user, owner, name)
        assert name in SCHEMAS[owner].publishes, (user, owner, name)
    # Every view a service reads exists, in its owner's schema.
    reads = {tuple(view.split(".")) for s in SCHEMAS.values() for view in s.reads}
    assert reads <= views


async def tables(url: str) -> dict[str, int]:
    engine = create_async_engine(async_url(url), poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT table_schema, count(*) FROM information_schema.tables "
                    "WHERE table_schema = ANY(:schemas) "
                    "GROUP BY table_schema"
                ),
                {"schemas": list(SERVICES)},
            )
            return {schema: int(count) for schema, count in rows}
    finally:
        await engine.dispose()


async def test_up_down_up(scratch_database: str) -> None:
    await asyncio.to_thread(upgrade_all, scratch_database)
    applied = await tables(scratch_database)
    assert set(applied) == set(SERVICES)
    await asyncio.to_thread(downgrade_all, scratch_database)
    # Only each schema's Alembic version table is left.
    assert all(count == 1 for count in (await tables(scratch_database)).values())
    await asyncio.to_thread(upgrade_all, scratch_database)
    assert await tables(scratch_database) == applied
