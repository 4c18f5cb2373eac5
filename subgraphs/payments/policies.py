"""The `@policy` predicates the payments schema names (enforced by shared.authz)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.authz import PolicyCheck
from shared.context import Principal
from subgraphs.payments.access import is_self_or_admin


def self_or_admin(principal: Principal, root: Any, args: dict[str, Any]) -> bool:
    """The field's parent is the caller's own `User`, or the caller is ADMIN."""
    return is_self_or_admin(principal, getattr(root, "id", ""))


POLICIES: Mapping[str, PolicyCheck] = {"self_or_admin": self_or_admin}
