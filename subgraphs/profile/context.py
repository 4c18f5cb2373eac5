"""The profile request context and what its app is built with (`ProfileDeps`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.config import ProfileSettings
from shared.context import SubgraphContext, SubgraphDeps, VerifierFactory
from subgraphs.profile.avatar_store import AvatarStore, store_for
from subgraphs.profile.loaders import Loaders


@dataclass(frozen=True, kw_only=True)
class ProfileDeps(SubgraphDeps):
    """Where avatars are stored (and served from)."""

    avatar_store: AvatarStore

    @classmethod
    def from_settings(
        cls, settings: ProfileSettings, *, verifier_factory: VerifierFactory | None = None
    ) -> ProfileDeps:
        return cls(avatar_store=store_for(settings), verifier_factory=verifier_factory)


class Context(SubgraphContext[ProfileDeps]):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.loaders = Loaders(self.db)

    @property
    def avatar_store(self) -> AvatarStore:
        return self.deps.avatar_store
