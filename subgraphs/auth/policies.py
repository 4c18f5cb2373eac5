"""The `@policy` predicates the auth schema names (enforced by shared.authz)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.authz import PolicyCheck
from shared.context import Principal


def self_or_admin(principal: Principal, root: Any, args: dict[str, Any]) -> bool:
    """The field's parent is the caller's own `User`, or the caller is ADMIN."""
    return principal.is_admin or str(getattr(root, "id", "")) == str(principal.id)


POLICIES: Mapping[str, PolicyCheck] = {"self_or_admin": self_or_admin}
