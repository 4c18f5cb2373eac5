"""Injected outages for the `/v1` API (`POST /_sim/faults`).

- `error500`: 500 with Razorpay's SERVER_ERROR body (the SDK raises `ServerError`);
- `non_json`: 502 with an HTML body, as a proxy in front of Razorpay answers (the SDK's
  `response.json()` raises `requests.exceptions.JSONDecodeError`);
- `timeout`: the request waits `sleep_s` (past the client's timeout) and is then served: like a
  slow Razorpay, the side effect happens although the client never saw the answer;
- `none`: clears the fault.

A fault applies to the next `count` requests whose path starts with `path_prefix`
(`count: null` = until cleared).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FaultMode = Literal["error500", "timeout", "non_json", "none"]


class FaultRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: FaultMode
    count: int | None = Field(default=1, ge=1)
    path_prefix: str = "/v1/"
    sleep_s: float = Field(default=10.0, gt=0, le=120)


@dataclass
class Fault:
    mode: str
    remaining: int | None
    path_prefix: str
    sleep_s: float

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


class FaultInjector:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fault: Fault | None = None

    def set(self, request: FaultRequest) -> Fault | None:
        with self._lock:
            if request.mode == "none":
                self._fault = None
            else:
                self._fault = Fault(
                    mode=request.mode,
                    remaining=request.count,
                    path_prefix=request.path_prefix,
                    sleep_s=request.sleep_s,
                )
            return self._fault

    @property
    def current(self) -> Fault | None:
        return self._fault

    def take(self, path: str) -> Fault | None:
        """The fault to apply to this request, if any (consuming one of its count)."""
        with self._lock:
            fault = self._fault
            if fault is None or not path.startswith(fault.path_prefix):
                return None
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._fault = None
            return fault
