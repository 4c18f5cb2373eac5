"""`python -m subgraphs.payments.webhooks [serve | parked | replay EVENT_ID...]`

- `serve` (default): the sidecar on WEBHOOK_HOST/`host` and WEBHOOK_PORT (default 4005);
- `parked`: list parked events (event id, type, outcome, attempts, last error), newest first;
- `replay EVENT_ID...`: put parked events back in the worker's queue with fresh attempts.

`parked` and `replay` use DATABASE_URL, else (outside production) the development database
`make dev` runs (`shared.cli`); without one they say so in one line (exit status 2).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from shared.cli import database_url, run_cli
from shared.config import WebhookSettings, webhook_settings
from shared.db import create_sessionmaker
from subgraphs.payments.webhooks import store


async def _parked(settings: WebhookSettings, limit: int) -> int:
    engine = store.create_webhook_engine(settings)
    try:
        async with create_sessionmaker(engine)() as session:
            rows = await store.parked_events(session=session, limit=limit)
    finally:
        await engine.dispose()
    for row in rows:
        parked = row.parked_at.isoformat() if row.parked_at else ""
        print(
            f"{row.event_id}\t{row.event_type}\t{row.outcome}\t{row.attempts}\t{parked}\t"
            f"{row.last_error or ''}"
        )
    return 0


async def _replay(settings: WebhookSettings, event_ids: Sequence[str]) -> int:
    engine = store.create_webhook_engine(settings)
    missing: list[str] = []
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            for event_id in event_ids:
                if not await store.replay(
                    session=session, event_id=event_id, now=datetime.now(UTC)
                ):
                    missing.append(event_id)
    finally:
        await engine.dispose()
    for event_id in missing:
        print(f"not parked (or unknown): {event_id}", file=sys.stderr)
    print(f"queued {len(event_ids) - len(missing)} event(s)")
    return 1 if missing else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m subgraphs.payments.webhooks")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="run the sidecar (default)")
    parked = commands.add_parser("parked", help="list parked events")
    parked.add_argument("--limit", type=int, default=100)
    replay = commands.add_parser("replay", help="queue parked events again")
    replay.add_argument("event_ids", nargs="+")
    args = parser.parse_args(argv)
    if args.command in ("parked", "replay"):

        def run() -> int:
            settings = webhook_settings()
            found = settings.model_copy(update={"database_url": database_url(settings)})
            if args.command == "parked":
                return asyncio.run(_parked(found, args.limit))
            return asyncio.run(_replay(found, args.event_ids))

        return run_cli(parser.prog, run)
    settings = webhook_settings()
    import uvicorn

    uvicorn.run(
        "subgraphs.payments.webhooks.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
