"""The profile request context and what its app is built with (`ProfileDeps`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.config import ProfileSettings
from shared.context import SubgraphContext, SubgraphDeps, VerifierFactory
from shared.ratelimit import RateLimit
from subgraphs.profile.avatar_store import AvatarStore, store_for
from subgraphs.profile.loaders import Loaders

# AVATAR_UPLOAD_LIMIT uploads per AVATAR_UPLOAD_WINDOW_SECONDS (ProfileSettings' defaults).
DEFAULT_UPLOAD_LIMIT = RateLimit("avatar:user", 10, 900)


@dataclass(frozen=True, kw_only=True)
class ProfileDeps(SubgraphDeps):
    """Where avatars are stored (and served from), and how often a user may upload one."""

    avatar_store: AvatarStore
    upload_limit: RateLimit = DEFAULT_UPLOAD_LIMIT

    @classmethod
    def from_settings(
        cls, settings: ProfileSettings, *, verifier_factory: VerifierFactory | None = None
    ) -> ProfileDeps:
        return cls(
            avatar_store=store_for(settings),
            upload_limit=RateLimit(
                "avatar:user", settings.avatar_upload_limit, settings.avatar_upload_window_seconds
            ),
            verifier_factory=verifier_factory,
        )


class Context(SubgraphContext[ProfileDeps]):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.loaders = Loaders(self.db)

    @property
    def avatar_store(self) -> AvatarStore:
        return self.deps.avatar_store
