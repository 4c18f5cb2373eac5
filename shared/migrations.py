"""Alembic, one migration history per service, each in the service's own PostgreSQL schema.

Each subgraph has `migrations/` with a three-line `env.py` calling `run_env`; `upgrade` applies a
service's migrations programmatically (used by `make dev`, the tests and deploy jobs).

What a schema shares is declared here (`SCHEMAS`): the read-only views a service publishes for
others (created by the owner's own migrations, never by a reader's), the published views it
reads at run time, and the services whose published views its MIGRATIONS build on (`needs`).
`upgrade_all` migrates every service after the services it needs (`migration_order`), and refuses
a cycle or an unknown name. Reads at run time need no order (every schema is migrated before any
service serves), and may be mutual: payments reads admin's view and admin reads payments'.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from shared.config import REPO_ROOT
from shared.db import async_url


@dataclass(frozen=True, slots=True)
class SharedSchema:
    """What one service's schema shares with the others (see the module docstring)."""

    publishes: frozenset[str] = frozenset()  # views of this schema other services may read
    reads: frozenset[str] = frozenset()  # "<schema>.<view>" published by another service
    needs: frozenset[str] = frozenset()  # services migrated first (its migrations use their views)


SCHEMAS: Mapping[str, SharedSchema] = {
    "auth": SharedSchema(publishes=frozenset({"user_directory"})),
    "payments": SharedSchema(
        publishes=frozenset({"payment_facts"}),
        reads=frozenset({"admin.payment_settings", "auth.user_directory"}),
    ),
    "admin": SharedSchema(
        publishes=frozenset({"payment_settings"}),
        reads=frozenset({"auth.user_directory", "payments.payment_facts"}),
    ),
    "profile": SharedSchema(reads=frozenset({"auth.user_directory"})),
}
SERVICES = tuple(SCHEMAS)  # ("auth", "payments", "admin", "profile")


class MigrationOrderError(ValueError):
    """The declarations name an unknown service or view, or the `needs` form a cycle."""


def check_declarations(schemas: Mapping[str, SharedSchema]) -> None:
    """Every needed service is declared; every read names a view another service publishes."""
    published = {f"{owner}.{view}" for owner, s in schemas.items() for view in s.publishes}
    for service, schema in schemas.items():
        unknown = sorted(schema.needs - set(schemas))
        if unknown:
            raise MigrationOrderError(f"{service} needs unknown service(s): {', '.join(unknown)}")
        unpublished = sorted(
            view for view in schema.reads if view not in published or view.startswith(f"{service}.")
        )
        if unpublished:
            raise MigrationOrderError(
                f"{service} reads view(s) no other service publishes: {', '.join(unpublished)}"
            )


def migration_order(schemas: Mapping[str, SharedSchema] = SCHEMAS) -> tuple[str, ...]:
    """Every service after the services it needs; otherwise in declaration order."""
    check_declarations(schemas)
    order: list[str] = []
    while len(order) < len(schemas):
        ready = [
            service
            for service, schema in schemas.items()
            if service not in order and schema.needs <= set(order)
        ]
        if not ready:
            stuck = sorted(set(schemas) - set(order))
            raise MigrationOrderError(f"the services' needs form a cycle among: {', '.join(stuck)}")
        order.append(ready[0])
    return tuple(order)


def alembic_config(service: str, database_url: str) -> Config:
    config = Config()
    config.set_main_option("path_separator", "os")
    config.set_main_option("script_location", str(REPO_ROOT / "subgraphs" / service / "migrations"))
    config.set_main_option(
        "version_locations",
        str(Path(REPO_ROOT / "subgraphs" / service / "migrations" / "versions")),
    )
    config.attributes["database_url"] = database_url
    config.attributes["schema"] = service
    return config


def upgrade(service: str, database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(service, database_url), revision)


def upgrade_all(database_url: str, schemas: Mapping[str, SharedSchema] = SCHEMAS) -> None:
    """Every service's migrations, each after the services it needs (`migration_order`)."""
    for service in migration_order(schemas):
        upgrade(service, database_url)


def downgrade_all(database_url: str) -> None:
    """Every service back to nothing, in the reverse of the migration order."""
    for service in reversed(migration_order()):
        command.downgrade(alembic_config(service, database_url), "base")


def _run_migrations(connection: Connection, metadata: MetaData, schema: str) -> None:
    connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table_schema=schema,
        include_schemas=True,
        include_name=lambda name, type_, _parent: type_ != "schema" or name == schema,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_env(metadata: MetaData) -> None:
    """The body of every service's `migrations/env.py`."""
    config = context.config
    schema = config.attributes["schema"]
    url = async_url(config.attributes["database_url"])

    async def run() -> None:
        engine = create_async_engine(url, poolclass=NullPool)
        async with engine.begin() as connection:
            await connection.run_sync(_run_migrations, metadata, schema)
        await engine.dispose()

    asyncio.run(run())


def main() -> int:
    """`python -m shared.migrations`: apply every service's migrations to DATABASE_URL (else,
    outside production, to the development database `make dev` runs)."""
    from shared.cli import database_url, run_cli
    from shared.config import Settings

    def run() -> int:
        upgrade_all(database_url(Settings()))
        return 0

    return run_cli("python -m shared.migrations", run)


if __name__ == "__main__":
    raise SystemExit(main())
