"""The import rules in `.importlinter` (run by `make lint`) catch what they forbid: the real
contracts are checked against a miniature copy of the package tree in a temporary folder, clean
and with one deliberate violation each (fast, and independent of the real code)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared.config import REPO_ROOT

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
INDEPENDENCE_CONTRACT = "The four subgraphs are independent of each other"
SHARED_CONTRACT = "shared imports neither subgraphs nor devtools"
DEVTOOLS_CONTRACT = "subgraphs do not import devtools"
PACKAGES = (
    "shared",
    "devtools",
    "subgraphs",
    "subgraphs/auth",
    "subgraphs/payments",
    "subgraphs/admin",
    "subgraphs/profile",
)


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(REPO_ROOT / ".importlinter")],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=600,  # a bound against a hang, not a speed check: a loaded CI machine is slow
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for package in PACKAGES:
        (tmp_path / package).mkdir(parents=True, exist_ok=True)
        (tmp_path / package / "__init__.py").write_text("")
    # What is allowed: subgraphs and devtools use shared, devtools uses subgraphs.
    (tmp_path / "subgraphs" / "admin" / "app.py").write_text("import shared\n")
    (tmp_path / "devtools" / "stack.py").write_text("import subgraphs.auth\nimport shared\n")
    return tmp_path


def test_the_rules_pass_a_tree_that_keeps_them(tree: Path) -> None:
    result = lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "source", "contract"),
    [
        (
            "subgraphs/admin/accounts.py",
            "from subgraphs.auth import passwords\n",
            f"{INDEPENDENCE_CONTRACT} BROKEN",
        ),
        ("shared/app.py", "import subgraphs.payments\n", f"{SHARED_CONTRACT} BROKEN"),
        ("shared/config.py", "from devtools import stack\n", f"{SHARED_CONTRACT} BROKEN"),
        ("subgraphs/profile/app.py", "import devtools\n", f"{DEVTOOLS_CONTRACT} BROKEN"),
    ],
)
def test_each_violation_fails_the_check(
    tree: Path, module: str, source: str, contract: str
) -> None:
    (tree / module).write_text(source)
    result = lint(tree)
    assert result.returncode != 0, result.stdout
    assert contract in result.stdout
    assert "1 broken" in result.stdout
