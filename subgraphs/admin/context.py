"""The admin request context and what its app is built with (`AdminDeps`): the password hasher
the user-management mutations hash with (auth's `Passwords`, auth's parameters)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from shared.config import AdminSettings
from shared.context import SubgraphContext, SubgraphDeps, VerifierFactory
from subgraphs.admin.loaders import Loaders
from subgraphs.auth.passwords import Passwords


@functools.cache
def default_passwords() -> Passwords:
    """Built on first use: argon2id with auth's production parameters."""
    return Passwords()


@dataclass(frozen=True, kw_only=True)
class AdminDeps(SubgraphDeps):
    # None: `default_passwords()`, built on first use.
    passwords: Passwords | None = None

    @classmethod
    def from_settings(
        cls, settings: AdminSettings, *, verifier_factory: VerifierFactory | None = None
    ) -> AdminDeps:
        return cls(verifier_factory=verifier_factory)


class Context(SubgraphContext[AdminDeps]):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.loaders = Loaders(self.db)

    @property
    def passwords(self) -> Passwords:
        return self.deps.passwords or default_passwords()
