"""`python -m subgraphs.payments.reconciliation [--older-than 15m] [--window 7d] [--limit N]`:
one reconciliation sweep (`sweep.py`) on demand; prints its summary, exits 1 on errors.

It uses DATABASE_URL, else (outside production) the development database `make dev` runs
(`shared.cli`), and the Razorpay settings of the payments service (RAZORPAY_KEY_ID,
RAZORPAY_KEY_SECRET, RAZORPAY_API_BASE_URL); what is missing is one line on stderr, exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Sequence
from datetime import timedelta

from shared.cli import database_url, run_cli
from shared.config import payments_settings
from shared.db import create_engine, create_sessionmaker
from subgraphs.payments.provider.razorpay import RazorpayGateway
from subgraphs.payments.reconciliation.sweep import ReconcileReport, reconcile

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
PROG = "python -m subgraphs.payments.reconciliation"


def parse_duration(text: str) -> timedelta:
    """`90`, `90s`, `15m`, `2h`, `7d` -> timedelta."""
    match = _DURATION.match(text)
    if match is None:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 90s, 15m, 2h, 7d)")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


async def _main(args: argparse.Namespace) -> ReconcileReport:
    settings = payments_settings()
    url = database_url(settings)
    gateway = RazorpayGateway.from_settings(settings)
    engine = create_engine(url, pool_size=2, application_name="reconcile")
    try:
        return await reconcile(
            sessionmaker=create_sessionmaker(engine),
            client=gateway,
            older_than=args.older_than,
            limit=args.limit,
            window=args.window,
        )
    finally:
        gateway.close()
        await engine.dispose()


def _cli(argv: Sequence[str] | None) -> int:
    settings = payments_settings()
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Apply Razorpay's view of stuck payments and pending refunds.",
    )
    parser.add_argument(
        "--older-than",
        type=parse_duration,
        default=timedelta(seconds=settings.reconcile_older_than_seconds),
        help="only payments unchanged for this long (default RECONCILE_OLDER_THAN_SECONDS)",
    )
    parser.add_argument(
        "--window",
        type=parse_duration,
        default=timedelta(seconds=settings.reconcile_window_seconds),
        help="ignore payments last changed longer ago than this (default 7d)",
    )
    parser.add_argument("--limit", type=int, default=settings.reconcile_batch_size)
    report = asyncio.run(_main(parser.parse_args(argv)))
    print(report.summary())
    return 1 if report.errors else 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli(PROG, lambda: _cli(argv))


if __name__ == "__main__":
    sys.exit(main())
