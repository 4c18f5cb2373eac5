"""The admin request context: the shared one plus per-request loaders and the password hasher
the user-management mutations hash with (auth's `Passwords`, auth's parameters)."""

from __future__ import annotations

import functools
from typing import Any, ClassVar

from shared.context import RequestContext
from subgraphs.admin.loaders import Loaders
from subgraphs.auth.passwords import Passwords


@functools.cache
def default_passwords() -> Passwords:
    """Built on first use: argon2id with auth's production parameters."""
    return Passwords()


class Context(RequestContext):
    password_hasher: ClassVar[Passwords | None] = None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.loaders = Loaders(self.db)

    @property
    def passwords(self) -> Passwords:
        return self.password_hasher or default_passwords()


def bind_context(passwords: Passwords | None) -> type[Context]:
    """A context class using this app's hasher (the app factory builds contexts itself)."""
    if passwords is None:
        return Context

    class BoundContext(Context):
        pass

    BoundContext.password_hasher = passwords
    return BoundContext
