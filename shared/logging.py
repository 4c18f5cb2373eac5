"""JSON logs, one object a line, in the one shape every process writes (the router too):

    {"timestamp": ..., "level": ..., "service": ..., "logger": ..., "message": ...,
     "request_id": ..., "trace_id": ..., "span_id": ..., <the record's extra fields>}

`request_id`, `trace_id` and `span_id` are always present (null outside a request or a trace).
The router sends `x-request-id` with every upstream request; the subgraph middleware puts it in
`request_id_var` and every log line written while serving that request carries it, with the
ids of the current OpenTelemetry span when tracing is on (`shared.telemetry`).
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

from shared import telemetry

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys()) | {
    "message",
    "asctime",
    "taskName",
}


def mask(value: str | None, keep: int = 4) -> str:
    """Show the first and last `keep` characters of an identifier or signature, nothing else."""
    if not value:
        return ""
    if len(value) <= keep * 2:
        return "*" * len(value)
    return f"{value[:keep]}…{value[-keep:]}"


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        ids = telemetry.current_ids()
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id_var.get(),
            "trace_id": ids[0] if ids else None,
            "span_id": ids[1] if ids else None,
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            # Type only: stack traces and exception text stay out of the logs.
            entry["error_type"] = record.exc_info[0].__name__
        return orjson.dumps(entry, default=str).decode()


def configure_logging(service: str, level: str = "INFO", *, json: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if json:
        handler.setFormatter(JsonFormatter(service))
    else:
        handler.setFormatter(logging.Formatter(f"%(levelname)s {service} %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # uvicorn's error logger prints tracebacks of failed ASGI calls; keep it to one line.
    logging.getLogger("uvicorn.error").propagate = True
