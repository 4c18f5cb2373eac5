"""`make audit`'s decision (devtools/audit.py) on canned tool outputs: a vulnerability fails,
an unreachable advisory service warns and passes, anything unexpected fails."""

from __future__ import annotations

import json

from devtools.audit import Outcome, exit_code, judge_npm_audit, judge_pip_audit, report

SKIPPED = json.dumps(
    {
        "dependencies": [
            {
                "name": "alembic",
                "skip_reason": "Dependency not found on PyPI and could not be audited",
            },
            {
                "name": "redis",
                "skip_reason": "Dependency not found on PyPI and could not be audited",
            },
        ],
        "fixes": [],
    }
)
PIP_CLEAN = json.dumps(
    {"dependencies": [{"name": "redis", "version": "8.1.0", "vulns": []}], "fixes": []}
)
PIP_VULNERABLE = json.dumps(
    {
        "dependencies": [
            {"name": "redis", "version": "8.1.0", "vulns": []},
            {"name": "jinja2", "version": "3.1.2", "vulns": [{"id": "GHSA-h5c8-rqwp-cp95"}]},
        ],
        "fixes": [],
    }
)
NPM_405 = json.dumps(
    {
        "message": "405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/"
        "advisories/bulk",
        "statusCode": 405,
        "body": "",
        "error": {"summary": "", "detail": ""},
    }
)
NPM_CLEAN = json.dumps(
    {"auditReportVersion": 2, "vulnerabilities": {}, "metadata": {"vulnerabilities": {"total": 0}}}
)
NPM_VULNERABLE = json.dumps(
    {
        "auditReportVersion": 2,
        "vulnerabilities": {"ws": {"severity": "high"}},
        "metadata": {"vulnerabilities": {"high": 1, "total": 1}},
    }
)


def test_unreachable_services_warn_and_exit_0() -> None:
    verdicts = [
        judge_pip_audit(SKIPPED, "No known vulnerabilities found", 0),
        judge_npm_audit(NPM_405, "npm error audit endpoint returned an error", 1),
    ]
    assert [v.outcome for v in verdicts] == [Outcome.UNREACHABLE, Outcome.UNREACHABLE]
    assert exit_code(verdicts) == 0
    text = report(verdicts)
    assert text.count("WARNING") == 2
    assert "could NOT be performed" in text
    offline = judge_npm_audit("", "npm error code ENOTFOUND getaddrinfo registry.npmjs.org", 1)
    assert offline.outcome is Outcome.UNREACHABLE
    pip_offline = judge_pip_audit("", "requests.exceptions.ConnectionError: Max retries", 1)
    assert pip_offline.outcome is Outcome.UNREACHABLE


def test_a_vulnerability_fails_even_when_the_other_service_is_unreachable() -> None:
    pip = judge_pip_audit(PIP_VULNERABLE, "Found 1 known vulnerability", 1)
    assert pip.outcome is Outcome.VULNERABLE
    assert "jinja2 3.1.2 (GHSA-h5c8-rqwp-cp95)" in pip.detail
    assert exit_code([pip, judge_npm_audit(NPM_405, "", 1)]) == 1
    npm = judge_npm_audit(NPM_VULNERABLE, "", 1)
    assert npm.outcome is Outcome.VULNERABLE
    assert exit_code([judge_pip_audit(SKIPPED, "", 0), npm]) == 1
    assert "FAIL" in report([npm])


def test_clean_audits_pass_and_unexpected_output_fails() -> None:
    clean = [judge_pip_audit(PIP_CLEAN, "", 0), judge_npm_audit(NPM_CLEAN, "", 0)]
    assert [v.outcome for v in clean] == [Outcome.CLEAN, Outcome.CLEAN]
    assert exit_code(clean) == 0
    broken = judge_pip_audit("Traceback (most recent call last): ...", "KeyError", 1)
    assert broken.outcome is Outcome.ERROR
    assert exit_code([broken]) == 1
    assert judge_npm_audit("not json", "segfault", 139).outcome is Outcome.ERROR
