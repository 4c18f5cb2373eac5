"""Roles and the scopes each role's access token carries.

Scopes are derived from the role when a token is issued, so a role change reaches the user's next
token. Fields declare the scopes they need with `@requiresScopes`; ADMIN carries every scope.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "ADMIN"
    VENDOR = "VENDOR"
    CUSTOMER = "CUSTOMER"


class Scope(StrEnum):
    PAYMENTS_READ = "payments:read"
    PAYMENTS_WRITE = "payments:write"
    PAYMENTS_REFUND = "payments:refund"
    PAYMENTS_REPORT = "payments:report"
    PROFILE_WRITE = "profile:write"
    ADMIN = "admin"


ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.CUSTOMER: frozenset({Scope.PAYMENTS_READ, Scope.PAYMENTS_WRITE, Scope.PROFILE_WRITE}),
    Role.VENDOR: frozenset(
        {
            Scope.PAYMENTS_READ,
            Scope.PAYMENTS_WRITE,
            Scope.PAYMENTS_REFUND,
            Scope.PAYMENTS_REPORT,
            Scope.PROFILE_WRITE,
        }
    ),
    Role.ADMIN: frozenset(Scope),
}


def scopes_for(role: Role) -> frozenset[str]:
    return frozenset(str(s) for s in ROLE_SCOPES[role])
