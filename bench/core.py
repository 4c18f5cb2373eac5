"""The harness's pure parts: load-generator results, CPU accounting from /proc, medians of
interleaved pairs, percentiles and the `BENCH <name> key=value ...` line format."""

from __future__ import annotations

import math
import os
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True, slots=True)
class LoadResult:
    """One load-generator run against one target."""

    requests: int  # answered with 2xx
    seconds: float
    p95_ms: float
    p99_ms: float
    failed: int  # non-2xx answers, connection errors and timeouts

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


def parse_load(report: Mapping[str, Any]) -> LoadResult:
    """Our load script's JSON report (bench/load.mjs, built from autocannon's result)."""
    latency = report["latency"]
    return LoadResult(
        requests=int(report["ok"]),
        seconds=float(report["seconds"]),
        p95_ms=float(latency.get("p97_5", latency.get("p95", 0.0))),
        p99_ms=float(latency["p99"]),
        failed=int(report.get("non2xx", 0))
        + int(report.get("errors", 0))
        + int(report.get("timeouts", 0)),
    )


def cpu_seconds(stat: str) -> float:
    """utime + stime of a `/proc/<pid>/stat` line, in seconds. The command name (field 2) may
    hold spaces and parentheses, so fields are counted from its closing parenthesis."""
    fields = stat[stat.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state): utime is field 14, stime field 15.
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def process_cpu(pids: Iterable[int]) -> float:
    """CPU seconds used so far by these processes (ones that are gone count 0)."""
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                total += cpu_seconds(f.read())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def children_of(pid: int) -> list[int]:
    """Direct children of a process (Linux), e.g. PostgreSQL's backends."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except FileNotFoundError:
        return []


def median(values: Sequence[float]) -> float:
    if not values:
        raise ValueError("median of nothing")
    return float(statistics.median(values))


def median_ratio(pairs: Sequence[tuple[float, float]]) -> float:
    """The median of `a / b` over interleaved pairs (A B A B ...): each pair ran back to back, so
    the machine's drift between pairs cancels out of its ratio."""
    ratios = [a / b for a, b in pairs if b > 0]
    if not ratios:
        return math.inf
    return median(ratios)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of the values."""
    if not values:
        raise ValueError("percentile of nothing")
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return float(ordered[rank - 1])


def per_request_ms(cpu_seconds_used: float, requests: int) -> float:
    return cpu_seconds_used * 1000 / requests if requests else math.inf


def _format(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isinf(value) or math.isnan(value):
            return "n/a"
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    text = str(value)
    return text.replace(" ", "_") if text else "-"


def bench_line(name: str, fields: Mapping[str, Any]) -> str:
    """`BENCH <name> key=value ...` in the given key order; floats rounded, spaces replaced."""
    if not name or " " in name:
        raise ValueError(f"bad result name {name!r}")
    parts = [f"{key}={_format(value)}" for key, value in fields.items()]
    return " ".join(["BENCH", name, *parts])


def parse_bench_line(line: str) -> tuple[str, dict[str, str]]:
    """The name and fields of a `BENCH` line (what docs and CI logs quote)."""
    words = line.split()
    if len(words) < 2 or words[0] != "BENCH":
        raise ValueError(f"not a BENCH line: {line!r}")
    fields: dict[str, str] = {}
    for word in words[2:]:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise ValueError(f"bad field {word!r} in {line!r}")
        fields[key] = value
    return words[1], fields


# Statements of background loops (outbox relays, the reconciler, the webhook worker, auth's
# mail sender), transaction control, session set-up and asyncpg's own type introspection (the
# first time a connection meets a type such as uuid[]: `set_config('jit', ...)` around a
# `typeinfo_tree` query): not what a request asked for. The reconciler is known by its use of
# `last_reconciled_at` in a condition, order or update: a list page selects that column too.
BACKGROUND_STATEMENT = re.compile(
    r"outbox|webhook_events|last_reconciled_at\s*(IS\b|<|=|ASC\b)|outbound_emails|"
    r"password_reset_requests|"
    r"pg_advisory|LISTEN|NOTIFY|pg_catalog|typeinfo_tree|set_config\('jit'|"
    r"^\s*(BEGIN|COMMIT|ROLLBACK|SELECT 1\b|SHOW|SET|RESET)\b",
    re.IGNORECASE,
)
_LOGGED = re.compile(r"LOG:\s+(?:statement|execute [^:]*):\s*(.*)", re.DOTALL)


def count_statements(log: str, apps: Iterable[str]) -> int:
    """Data statements in a PostgreSQL log written with `log_statement = 'all'` and
    `log_line_prefix = '@@%a|'` (entries may span lines), from the given application names."""
    wanted = set(apps)
    count = 0
    for entry in log.split("@@")[1:]:
        app, _, rest = entry.partition("|")
        if app not in wanted:
            continue
        match = _LOGGED.search(rest)
        if match is None or BACKGROUND_STATEMENT.search(match.group(1)):
            continue
        count += 1
    return count
