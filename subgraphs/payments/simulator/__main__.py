"""`python -m subgraphs.payments.simulator [--host H] [--port P] [--state-file F]`.

Reads RAZORPAY_KEY_ID (default rzp_test_simulator), RAZORPAY_KEY_SECRET and
RAZORPAY_WEBHOOK_SECRET (both required), RAZORPAY_WEBHOOK_URLS (comma-separated) and
RAZORPAY_SIM_* (port default 4010); flags override the environment.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import uvicorn

from subgraphs.payments.simulator.app import create_app
from subgraphs.payments.simulator.settings import ConfigurationError, SimulatorSettings


def build_settings(argv: Sequence[str] | None = None) -> SimulatorSettings:
    parser = argparse.ArgumentParser(
        prog="python -m subgraphs.payments.simulator", description="Razorpay simulator"
    )
    parser.add_argument("--host", help="interface to listen on (RAZORPAY_SIM_HOST)")
    parser.add_argument("--port", type=int, help="port (RAZORPAY_SIM_PORT, default 4010)")
    parser.add_argument("--state-file", help="JSON file keeping state (RAZORPAY_SIM_STATE_FILE)")
    parser.add_argument(
        "--webhook-url", action="append", help="webhook URL, repeatable (RAZORPAY_WEBHOOK_URLS)"
    )
    args = parser.parse_args(argv)
    overrides: dict[str, Any] = {}
    if args.host:
        overrides["host"] = args.host
    if args.port is not None:
        overrides["port"] = args.port
    if args.state_file:
        overrides["state_file"] = args.state_file
    if args.webhook_url:
        overrides["webhook_urls"] = args.webhook_url
    return SimulatorSettings(**overrides)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        settings = build_settings(argv)
        app = create_app(settings)
    except ConfigurationError as exc:
        print(f"razorpay simulator: {exc}", file=sys.stderr)
        return 2
    print(
        f"razorpay simulator on http://{settings.host}:{settings.port} (key id {settings.key_id},"
        f" webhooks to {', '.join(settings.webhook_urls) or 'nowhere'})",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", ws="none")
    return 0


if __name__ == "__main__":
    sys.exit(main())
