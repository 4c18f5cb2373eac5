"""The optional state file: orders, payments, refunds and idempotency keys as JSON, written
atomically after every change and read at start."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Protocol

from subgraphs.payments.simulator.entities import Order, Payment, Refund


class Tables(Protocol):
    orders: dict[str, Order]
    payments: dict[str, Payment]
    refunds: dict[str, Refund]
    idempotency: dict[str, tuple[str, str]]


def save(path: Path, tables: Tables) -> None:
    state = {
        "orders": [asdict(o) for o in tables.orders.values()],
        "payments": [asdict(p) for p in tables.payments.values()],
        "refunds": [asdict(r) for r in tables.refunds.values()],
        "idempotency": {key: list(value) for key, value in tables.idempotency.items()},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(state, indent=1), encoding="utf-8")
    os.replace(temporary, path)


def load(path: Path, tables: Tables) -> None:
    state = json.loads(path.read_text(encoding="utf-8"))
    tables.orders = {o["id"]: Order(**o) for o in state.get("orders", [])}
    tables.payments = {p["id"]: Payment(**p) for p in state.get("payments", [])}
    tables.refunds = {r["id"]: Refund(**r) for r in state.get("refunds", [])}
    tables.idempotency = {
        key: (value[0], value[1]) for key, value in state.get("idempotency", {}).items()
    }
