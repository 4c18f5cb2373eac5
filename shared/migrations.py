"""Alembic, one migration history per service, each in the service's own PostgreSQL schema.

Each subgraph has `migrations/` with a three-line `env.py` calling `run_env`; `upgrade` applies a
service's migrations programmatically (used by `make dev`, the tests and deploy jobs).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from shared.config import REPO_ROOT
from shared.db import async_url

SERVICES = ("auth", "payments", "admin", "profile")


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


def upgrade_all(database_url: str) -> None:
    for service in SERVICES:
        upgrade(service, database_url)


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


def main() -> None:
    """`python -m shared.migrations`: apply every service's migrations to DATABASE_URL."""
    import os

    url = os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("DATABASE_URL is not set")
    upgrade_all(url)


if __name__ == "__main__":
    main()
