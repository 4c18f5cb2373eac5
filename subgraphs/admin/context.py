"""The admin request context and what its app is built with (`AdminDeps`: only the shared token
verifier; user administration, and with it the password hasher, is auth's)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.config import AdminSettings
from shared.context import SubgraphContext, SubgraphDeps, VerifierFactory


@dataclass(frozen=True, kw_only=True)
class AdminDeps(SubgraphDeps):
    @classmethod
    def from_settings(
        cls, settings: AdminSettings, *, verifier_factory: VerifierFactory | None = None
    ) -> AdminDeps:
        return cls(verifier_factory=verifier_factory)


class Context(SubgraphContext[AdminDeps]):
    """The shared request context; admin needs no per-request loaders."""
