"""The command-line tools find the development database by themselves (the embedded PostgreSQL
`make dev` runs in `<DATA_DIR>/pg`) when DATABASE_URL is unset, and say in one line, without a
traceback, when there is none (`shared/cli.py`)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from shared.cli import database_url, run_cli, running_dev_database
from shared.config import REPO_ROOT, AppEnv, ConfigurationError, Settings
from tests.conftest import Infra

EMBEDDED = pytest.mark.skipif(
    bool(os.environ.get("TEST_DATABASE_URL")), reason="the session's PostgreSQL is not embedded"
)


def write_pid_file(pg_dir: Path, *, pid: int, port: int, socket_dir: Path) -> None:
    pg_dir.mkdir(parents=True, exist_ok=True)
    lines = [str(pid), str(pg_dir), "1700000000", str(port), str(socket_dir), "", "0 0", "ready"]
    (pg_dir / "postmaster.pid").write_text("\n".join(lines) + "\n")


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A directory short enough for a unix socket path (107 bytes at most)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="bffc-") as name:
        yield Path(name)


def test_no_pid_file_or_a_dead_server_is_no_database(tmp_path: Path) -> None:
    assert running_dev_database(tmp_path / "pg") is None
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    write_pid_file(tmp_path / "pg", pid=int(dead.stdout), port=5432, socket_dir=tmp_path / "pg")
    assert running_dev_database(tmp_path / "pg") is None


def test_a_live_server_counts_only_with_its_socket(short_dir: Path) -> None:
    write_pid_file(short_dir, pid=os.getpid(), port=5433, socket_dir=short_dir)
    assert running_dev_database(short_dir) is None
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(short_dir / ".s.PGSQL.5433"))
        assert running_dev_database(short_dir) == (
            f"postgresql://postgres:@/postgres?host={short_dir}&port=5433"
        )


@EMBEDDED
async def test_the_running_embedded_postgresql_is_found(infra: Infra) -> None:
    url = running_dev_database(infra.data_dir / "pg")
    assert url is not None
    connection = await asyncpg.connect(url)
    try:
        assert await connection.fetchval("SELECT 1") == 1
    finally:
        await connection.close()


def test_database_url_prefers_the_environment_and_refuses_production(tmp_path: Path) -> None:
    given = "postgresql://u:p@db.example/app"
    assert database_url(Settings(database_url=given, data_dir=tmp_path)) == given
    with pytest.raises(ConfigurationError, match=r"^DATABASE_URL is not set$"):
        # (Production settings refuse to load without DATABASE_URL; this is the second line.)
        database_url(Settings.model_construct(app_env=AppEnv.PRODUCTION, data_dir=tmp_path))
    with pytest.raises(ConfigurationError, match=r"no development database is running.*make dev"):
        database_url(Settings(app_env="development", data_dir=tmp_path))


def test_run_cli_turns_what_a_user_can_fix_into_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def unreachable() -> int:
        raise ConnectionRefusedError("connect to postgresql://u:secret@host failed")

    assert run_cli("tool", unreachable) == 2
    assert capsys.readouterr().err == "tool: cannot reach the database (ConnectionRefusedError)\n"


def run_tool(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "APP_ENV")}
    env.update({"APP_ENV": "development", "DATA_DIR": str(data_dir)})
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "args",
    [
        ["subgraphs.payments.webhooks", "parked"],
        ["subgraphs.payments.webhooks", "replay", "evt_1"],
        ["subgraphs.payments.reconciliation"],
        ["shared.migrations"],
    ],
    ids=lambda args: " ".join(args),
)
def test_without_a_database_each_tool_says_so_in_one_line(args: list[str], tmp_path: Path) -> None:
    result = run_tool(args, tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert line == (
        f"python -m {args[0]}: DATABASE_URL is not set and no development database is running in "
        f"{tmp_path / 'pg'}: start one with `make dev` (or set DATABASE_URL)"
    )


@EMBEDDED
def test_with_the_development_database_running_the_tools_use_it(infra: Infra) -> None:
    parked = run_tool(["subgraphs.payments.webhooks", "parked", "--limit", "1"], infra.data_dir)
    assert parked.returncode == 0, parked.stderr
    migrated = run_tool(["shared.migrations"], infra.data_dir)
    assert migrated.returncode == 0, migrated.stderr
