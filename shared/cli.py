"""What every `python -m ...` tool shares: finding the database, failing in one line.

`DATABASE_URL` wins. Without it, outside production, a tool uses the embedded PostgreSQL that
`make dev` runs in `<DATA_DIR>/pg` (`DATA_DIR` defaults to the repository's `.data`): pgserver keeps
the data and `postmaster.pid` there, whose lines name the server's pid, port and socket directory
(PostgreSQL's documented layout: pid, data directory, start time, port, socket directory, listen
address, shared memory key, status). The server counts as running when that process is alive
and its socket exists. Nothing is started: with no server the tool says so in one line.

`run_cli` turns the failures a user can fix (no database, a missing setting, a database that
cannot be reached) into one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.exc import InterfaceError, OperationalError

from shared.config import AppEnv, ConfigurationError, Settings

EXIT_USAGE = 2


def running_dev_database(pg_dir: Path) -> str | None:
    """The URL of the embedded PostgreSQL running in `pg_dir`, or None when none runs there."""
    try:
        lines = (pg_dir / "postmaster.pid").read_text().splitlines()
        pid, port, socket_dir = int(lines[0]), int(lines[3]), Path(lines[4].strip())
    except (OSError, ValueError, IndexError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None  # a stale pid file: the server was killed
    except PermissionError:  # pragma: no cover - root (the test runs) may signal any process
        pass  # alive, run by another user (pgserver runs it as `pgserver` under root)
    if not (socket_dir / f".s.PGSQL.{port}").exists():
        return None
    url = f"postgresql://postgres:@/postgres?host={socket_dir}"
    return url if port == 5432 else f"{url}&port={port}"


def database_url(settings: Settings) -> str:
    """DATABASE_URL, else (outside production) the development database `make dev` runs."""
    if settings.database_url:
        return settings.database_url
    if settings.app_env is AppEnv.PRODUCTION:
        raise ConfigurationError("DATABASE_URL is not set")
    pg_dir = settings.data_dir / "pg"
    url = running_dev_database(pg_dir)
    if url is None:
        raise ConfigurationError(
            f"DATABASE_URL is not set and no development database is running in {pg_dir}: "
            "start one with `make dev` (or set DATABASE_URL)"
        )
    return url


def run_cli(prog: str, main: Callable[[], int]) -> int:
    """`main()`, with a one-line message and status 2 for what the user can fix."""
    try:
        return main()
    except ConfigurationError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
    except (OSError, OperationalError, InterfaceError) as exc:
        # No message of the driver's: it may carry the URL (and a password).
        print(f"{prog}: cannot reach the database ({type(exc).__name__})", file=sys.stderr)
    return EXIT_USAGE
