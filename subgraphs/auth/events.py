"""The event types auth writes to its outbox (names are the contract's)."""

from __future__ import annotations

USER_REGISTERED = "auth:user:registered"
USER_LOGGED_IN = "auth:user:logged_in"
USER_LOGGED_OUT = "auth:user:logged_out"
PASSWORD_CHANGED = "auth:password:changed"
