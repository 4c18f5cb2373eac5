"""The profile request context: the shared one plus per-request loaders."""

from __future__ import annotations

from typing import Any, ClassVar

from shared.context import RequestContext
from subgraphs.profile.avatar_store import AvatarStore
from subgraphs.profile.loaders import Loaders


class Context(RequestContext):
    # Set by `create_app` on the context class it builds (the app's AVATAR_DIR).
    avatar_store: ClassVar[AvatarStore | None] = None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.loaders = Loaders(self.db)
