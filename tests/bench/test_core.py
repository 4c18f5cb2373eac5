"""The benchmark harness's pure parts: load reports, CPU accounting, medians of interleaved
pairs, percentiles, the BENCH line format and the statement count (bench/core.py)."""

from __future__ import annotations

import math
import os

import pytest

from bench import core

AUTOCANNON_REPORT = {
    "ok": 2800,
    "non2xx": 3,
    "errors": 1,
    "timeouts": 2,
    "seconds": 10.02,
    "latency": {"p50": 50, "p97_5": 120, "p99": 180.5, "average": 55.1},
}


def test_parse_load_reads_our_report() -> None:
    result = core.parse_load(AUTOCANNON_REPORT)
    assert result.requests == 2800
    assert result.failed == 6
    assert result.p95_ms == 120.0
    assert result.p99_ms == 180.5
    assert result.rps == pytest.approx(2800 / 10.02)


def test_parse_load_without_failures_or_duration() -> None:
    report = {"ok": 0, "seconds": 0, "latency": {"p95": 7, "p99": 9}}
    result = core.parse_load(report)
    assert (result.failed, result.p95_ms, result.rps) == (0, 7.0, 0.0)


def test_cpu_seconds_counts_fields_after_the_command_name() -> None:
    # The command name may hold spaces and parentheses: utime 250 and stime 50 ticks.
    rest = " ".join(["S", "1", "2", "3", "0", "-1", "4194560", "100", "0", "0", "0"])
    stat = f"4242 (node (worker) x) {rest} 250 50 0 0 20 0 5 0 123"
    assert core.cpu_seconds(stat) == pytest.approx(300 / core.CLOCK_TICKS)


def test_process_cpu_of_this_process_and_a_gone_one() -> None:
    sum(i * i for i in range(200_000))  # spend some CPU
    assert core.process_cpu([os.getpid()]) > 0
    assert core.process_cpu([2**22 + 1]) == 0.0  # above Linux's pid_max: never a process
    assert core.children_of(2**22 + 1) == []


def test_median_ratio_of_interleaved_pairs() -> None:
    pairs = [(100.0, 50.0), (90.0, 30.0), (120.0, 60.0)]  # ratios 2, 3, 2
    assert core.median_ratio(pairs) == 2.0
    assert core.median_ratio([(100.0, 0.0)]) == math.inf  # B answered nothing
    assert core.median([4.0, 1.0, 3.0, 2.0]) == 2.5
    with pytest.raises(ValueError, match="median of nothing"):
        core.median([])


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert core.percentile(values, 95) == 95.0
    assert core.percentile(values, 50) == 50.0
    assert core.percentile([7.0], 99) == 7.0
    with pytest.raises(ValueError, match="percentile of nothing"):
        core.percentile([], 50)


def test_per_request_ms() -> None:
    assert core.per_request_ms(2.5, 1000) == 2.5
    assert core.per_request_ms(1.0, 0) == math.inf


def test_bench_line_format_and_round_trip() -> None:
    line = core.bench_line(
        "webhook_ingest",
        {"rate": 1234.567, "p99_ms": 8.12345, "lost": 0, "equal": True, "note": "two words"},
    )
    assert line == "BENCH webhook_ingest rate=1234.6 p99_ms=8.123 lost=0 equal=true note=two_words"
    name, fields = core.parse_bench_line(line)
    assert name == "webhook_ingest"
    assert fields == {
        "rate": "1234.6",
        "p99_ms": "8.123",
        "lost": "0",
        "equal": "true",
        "note": "two_words",
    }
    assert core.bench_line("x", {"p95_ms": math.inf, "empty": ""}) == "BENCH x p95_ms=n/a empty=-"


@pytest.mark.parametrize("bad", ["", "two words"])
def test_bench_line_refuses_bad_names(bad: str) -> None:
    with pytest.raises(ValueError, match="bad result name"):
        core.bench_line(bad, {})


@pytest.mark.parametrize("bad", ["RESULT x a=1", "BENCH", "BENCH x novalue", "BENCH x =1"])
def test_parse_bench_line_refuses_other_lines(bad: str) -> None:
    with pytest.raises(ValueError, match=r"BENCH line|bad field"):
        core.parse_bench_line(bad)


def test_count_statements_in_a_statement_log() -> None:
    log = (
        "@@payments|LOG:  execute __asyncpg_stmt_1__: SELECT payments.payments.id\n"
        "FROM payments.payments WHERE x = $1\n"
        "@@payments|LOG:  statement: BEGIN ISOLATION LEVEL READ COMMITTED;\n"
        "@@auth|LOG:  execute __asyncpg_stmt_2__: SELECT auth.users.id FROM auth.users\n"
        "@@payments|LOG:  execute s3: SELECT id FROM payments.outbox WHERE published_at IS NULL\n"
        "@@webhooks|LOG:  execute s4: SELECT id FROM payments.payments\n"
        "@@profile|LOG:  execute s5: SELECT profile.profiles.user_id\nFROM profile.profiles\n"
        "@@profile|LOG:  duration: 0.1 ms\n"
        "@@bench|LOG:  statement: SELECT pg_reload_conf()\n"
    )
    assert core.count_statements(log, ["auth", "payments", "profile"]) == 3
    assert core.count_statements(log, ["webhooks"]) == 1
    assert core.count_statements("", ["auth"]) == 0


def test_count_statements_keeps_a_page_selecting_last_reconciled_at() -> None:
    """The reconciler's statements use the column in a condition, order or update; a list page
    only selects it, and is what a request asked for."""
    log = (
        "@@payments|LOG:  execute s1: SELECT page.id, page.last_reconciled_at, page.version\n"
        "FROM (SELECT payments.payments.id) AS page\n"
        "@@payments|LOG:  execute s2: SELECT payments.payments.id FROM payments.payments WHERE "
        "payments.payments.last_reconciled_at IS NULL OR payments.payments.last_reconciled_at < $1 "
        "ORDER BY payments.payments.last_reconciled_at ASC NULLS FIRST\n"
        "@@payments|LOG:  execute s3: UPDATE payments.payments SET last_reconciled_at=$1\n"
        "@@payments|LOG:  execute s4: \n\tSELECT\n\t    set_config('jit', $1, false)\n"
        "@@payments|LOG:  execute s5: WITH RECURSIVE typeinfo_tree(oid, ns, name)\n"
        "@@auth|LOG:  execute s6: SELECT auth.outbound_emails.id FROM auth.outbound_emails\n"
    )
    assert core.count_statements(log, ["auth", "payments"]) == 1
