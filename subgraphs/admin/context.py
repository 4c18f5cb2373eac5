"""The admin request context and what its app is built with (`AdminDeps`: the shared token
verifier and where `systemHealth` finds the other processes; user administration, and with it the
password hasher, is auth's)."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.config import AdminSettings
from shared.context import SubgraphContext, SubgraphDeps, VerifierFactory
from subgraphs.admin.health import Targets


def _default_targets() -> Targets:
    return Targets.from_settings(AdminSettings())


@dataclass(frozen=True, kw_only=True)
class AdminDeps(SubgraphDeps):
    health_targets: Targets = field(default_factory=_default_targets)

    @classmethod
    def from_settings(
        cls, settings: AdminSettings, *, verifier_factory: VerifierFactory | None = None
    ) -> AdminDeps:
        return cls(
            verifier_factory=verifier_factory, health_targets=Targets.from_settings(settings)
        )


class Context(SubgraphContext[AdminDeps]):
    """The shared request context; admin needs no per-request loaders."""
