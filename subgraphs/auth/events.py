"""The event types auth writes to its outbox (names are the contract's).

The `admin:user:*` types keep the contract's names although auth writes them: they describe what
an ADMIN did to an account (`user_admin.py`), and auth owns accounts. They reach `events:auth`.
"""

from __future__ import annotations

USER_REGISTERED = "auth:user:registered"
USER_LOGGED_IN = "auth:user:logged_in"
USER_LOGGED_OUT = "auth:user:logged_out"
PASSWORD_CHANGED = "auth:password:changed"
MFA_ENABLED = "auth:mfa:enabled"
MFA_DISABLED = "auth:mfa:disabled"
MFA_FAILED = "auth:mfa:failed"

ADMIN_USER_CREATED = "admin:user:created"
ADMIN_USER_UPDATED = "admin:user:updated"
ADMIN_USER_DELETED = "admin:user:deleted"
