"""`make audit`'s verdict on the known-vulnerability checks (`pip-audit`, `npm audit`).

Each tool's output is judged as one of:

- `clean`: the advisory service answered and nothing is vulnerable;
- `vulnerable`: at least one known vulnerability (the audit fails, exit 1);
- `unreachable`: the advisory service could not be asked (pip-audit skipped every package;
  npm's bulk advisory endpoint refused or the network failed). The audit was NOT performed:
  a WARNING says so and, only in this case, the run still exits 0;
- `error`: anything else (unreadable output, an unexpected failure): exit 1.

    python -m devtools.audit            # runs both tools, prints the verdicts
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent

# What a network failure or an unavailable advisory service looks like in a tool's output.
_UNREACHABLE = re.compile(
    r"ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|getaddrinfo|"
    r"Max retries exceeded|NameResolutionError|Failed to establish a new connection|"
    r"Temporary failure in name resolution|Connection(?:Error| refused| reset)|timed out|"
    r"40[35] (?:Forbidden|Method Not Allowed)|50[234] ",
    re.IGNORECASE,
)


class Outcome(StrEnum):
    CLEAN = "clean"
    VULNERABLE = "vulnerable"
    UNREACHABLE = "unreachable"
    ERROR = "error"


@dataclass(frozen=True)
class Verdict:
    tool: str
    outcome: Outcome
    detail: str


def _load(stdout: str) -> Any:
    try:
        return json.loads(stdout)
    except ValueError:
        return None


def judge_pip_audit(stdout: str, stderr: str, returncode: int) -> Verdict:
    """`pip-audit --format json` (its exit code is 1 when it found vulnerabilities)."""
    report = _load(stdout)
    if not isinstance(report, dict) or not isinstance(report.get("dependencies"), list):
        if _UNREACHABLE.search(stderr) or _UNREACHABLE.search(stdout):
            return Verdict("pip-audit", Outcome.UNREACHABLE, "the advisory service failed")
        return Verdict("pip-audit", Outcome.ERROR, f"unreadable output (exit {returncode})")
    deps = [d for d in report["dependencies"] if isinstance(d, dict)]
    vulnerable = sorted(
        f"{d.get('name')} {d.get('version')} ({', '.join(v.get('id', '?') for v in d['vulns'])})"
        for d in deps
        if d.get("vulns")
    )
    if vulnerable:
        return Verdict("pip-audit", Outcome.VULNERABLE, "; ".join(vulnerable))
    audited = [d for d in deps if "skip_reason" not in d]
    if deps and not audited:
        return Verdict(
            "pip-audit", Outcome.UNREACHABLE, f"all {len(deps)} packages skipped, none audited"
        )
    if returncode != 0:
        return Verdict("pip-audit", Outcome.ERROR, f"exit {returncode} without vulnerabilities")
    return Verdict("pip-audit", Outcome.CLEAN, f"{len(audited)} packages audited")


def judge_npm_audit(stdout: str, stderr: str, returncode: int) -> Verdict:
    """`npm audit --json` (exit 1 both for vulnerabilities and for a failed request)."""
    report = _load(stdout)
    if isinstance(report, dict) and "auditReportVersion" in report:
        counts = report.get("metadata", {}).get("vulnerabilities", {})
        total = int(counts.get("total", 0)) if isinstance(counts, dict) else 0
        if total or report.get("vulnerabilities"):
            names = ", ".join(sorted(report.get("vulnerabilities") or {}))
            return Verdict("npm audit", Outcome.VULNERABLE, f"{total} found: {names}")
        return Verdict("npm audit", Outcome.CLEAN, "no known vulnerabilities")
    text = stderr + (json.dumps(report) if report is not None else stdout)
    if _UNREACHABLE.search(text) or (
        isinstance(report, dict) and ("statusCode" in report or "error" in report)
    ):
        status = report.get("statusCode") if isinstance(report, dict) else None
        return Verdict(
            "npm audit", Outcome.UNREACHABLE, f"advisory endpoint failed (HTTP {status or '?'})"
        )
    return Verdict("npm audit", Outcome.ERROR, f"unreadable output (exit {returncode})")


def exit_code(verdicts: list[Verdict]) -> int:
    """0 when every check is clean or could not be performed; 1 on a vulnerability or error."""
    bad = {Outcome.VULNERABLE, Outcome.ERROR}
    return 1 if any(v.outcome in bad for v in verdicts) else 0


def report(verdicts: list[Verdict]) -> str:
    lines = []
    for v in verdicts:
        if v.outcome is Outcome.UNREACHABLE:
            lines.append(
                f"WARNING: {v.tool}: the vulnerability audit could NOT be performed "
                f"(advisory service unreachable: {v.detail}). Nothing was checked."
            )
        elif v.outcome is Outcome.VULNERABLE:
            lines.append(f"FAIL: {v.tool}: known vulnerabilities: {v.detail}")
        elif v.outcome is Outcome.ERROR:
            lines.append(f"FAIL: {v.tool}: the audit failed: {v.detail}")
        else:
            lines.append(f"ok: {v.tool}: {v.detail}")
    return "\n".join(lines)


def _run(args: list[str], cwd: Path) -> tuple[str, str, int]:
    try:
        done = subprocess.run(  # noqa: S603 - fixed tools and arguments
            args, cwd=cwd, capture_output=True, text=True, timeout=600, check=False
        )
    except subprocess.TimeoutExpired:
        return "", "timed out", 124
    return done.stdout, done.stderr, done.returncode


def main() -> int:
    venv_bin = Path(sys.executable).parent
    pip = _run(
        [str(venv_bin / "pip-audit"), "--format", "json", "--progress-spinner", "off"],
        REPO_ROOT,
    )
    npm = _run(["npm", "audit", "--json", "--omit", "dev"], REPO_ROOT / "router")
    verdicts = [judge_pip_audit(*pip), judge_npm_audit(*npm)]
    print(report(verdicts))
    return exit_code(verdicts)


if __name__ == "__main__":
    raise SystemExit(main())
