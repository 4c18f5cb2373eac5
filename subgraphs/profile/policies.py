"""The `@policy` predicates the profile schema names (enforced by shared.authz)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.authz import PolicyCheck
from shared.context import Principal


def owner_or_admin(principal: Principal, root: Any, args: dict[str, Any]) -> bool:
    """The parent `Profile` belongs to the caller, or the caller is ADMIN."""
    return principal.is_admin or getattr(root, "user_id", None) == principal.id


POLICIES: Mapping[str, PolicyCheck] = {"owner_or_admin": owner_or_admin}
