"""`make mfe-check` (examples/mfe/scripts/codegen-check.mjs) fails on drift: an operation or the
schema changed without regenerating, or a generated file left over. Run on a copy of the MFE
(its node_modules linked) next to a copy of the supergraph."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from devtools.mfe_server import MFE_DIR
from shared.config import REPO_ROOT


@pytest.fixture
def mfe_copy(tmp_path: Path) -> Path:
    if not (MFE_DIR / "node_modules" / ".bin" / "graphql-codegen").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=MFE_DIR, check=True)
    (tmp_path / "schema").mkdir()
    shutil.copy(REPO_ROOT / "schema" / "supergraph.graphql", tmp_path / "schema")
    shutil.copytree(
        REPO_ROOT / "router" / "persisted-documents", tmp_path / "router" / "persisted-documents"
    )
    copy = tmp_path / "examples" / "mfe"
    shutil.copytree(MFE_DIR, copy, ignore=shutil.ignore_patterns("node_modules", "dist"))
    (copy / "node_modules").symlink_to(MFE_DIR / "node_modules")
    return copy


def check(mfe: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["node", "scripts/codegen-check.mjs"], cwd=mfe, capture_output=True, text=True, check=False
    )


def test_the_committed_code_is_up_to_date(mfe_copy: Path) -> None:
    result = check(mfe_copy)
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout


def test_a_changed_operation_is_drift(mfe_copy: Path) -> None:
    operations = mfe_copy / "src" / "operations.ts"
    operations.write_text(
        operations.read_text().replace("razorpayOrderId\n    updatedAt", "updatedAt")
    )
    result = check(mfe_copy)
    assert result.returncode == 1
    assert "stale: src/gql/graphql.ts" in result.stderr
    assert "stale: src/gql/persisted-documents.json" in result.stderr


def test_a_schema_change_that_breaks_an_operation_fails(mfe_copy: Path) -> None:
    supergraph = mfe_copy.parent.parent / "schema" / "supergraph.graphql"
    text = supergraph.read_text()
    assert "  amountMinor: Int!" in text
    supergraph.write_text(text.replace("  amountMinor: Int!", "  amountInPaise: Int!"))
    result = check(mfe_copy)
    assert result.returncode != 0
    assert "amountMinor" in result.stdout + result.stderr


def test_a_leftover_generated_file_is_drift(mfe_copy: Path) -> None:
    (mfe_copy / "src" / "gql" / "old.ts").write_text("export {};\n")
    result = check(mfe_copy)
    assert result.returncode == 1
    assert "not generated (remove it): src/gql/old.ts" in result.stderr


def test_the_routers_copy_of_the_manifest_must_match(mfe_copy: Path) -> None:
    router_copy = mfe_copy.parent.parent / "router" / "persisted-documents" / "example-mfe.json"
    router_copy.write_text("{}\n")
    result = check(mfe_copy)
    assert result.returncode == 1
    assert "stale: ../../router/persisted-documents/example-mfe.json" in result.stderr
