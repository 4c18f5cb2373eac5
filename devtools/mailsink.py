"""A development SMTP sink: accepts every message and stores it as an .eml file.

`make dev` and the tests run it when SMTP_HOST is unset, so password-reset and verification mails
can be read from `<data dir>/mail/` (newest last) instead of reaching anyone.
Run: `python -m devtools.mailsink --port 1025 --dir .data/mail`.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import signal
import socket
import threading
import time
import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class _StoreHandler:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
        tmp = self.directory / f".{name}.tmp"
        tmp.write_bytes(envelope.content)
        tmp.replace(self.directory / name)
        return "250 Message accepted for delivery"


class MailSink:
    def __init__(self, directory: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        if port == 0:
            # aiosmtpd's Controller connects to the port it was given to check it is up, so it
            # needs a real one: take a free port from the kernel.
            with socket.socket() as probe:
                probe.bind((host, 0))
                port = probe.getsockname()[1]
        self.controller = Controller(_StoreHandler(directory), hostname=host, port=port)

    def start(self) -> int:
        self.controller.start()
        return int(self.controller.port)

    def stop(self) -> None:
        self.controller.stop()


def read_messages(directory: Path) -> list[EmailMessage]:
    """Every stored message, oldest first."""
    messages = []
    for path in sorted(directory.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        messages.append(message)
    return messages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args()
    sink = MailSink(args.dir, args.host, args.port)
    sink.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    sink.stop()


if __name__ == "__main__":
    main()
