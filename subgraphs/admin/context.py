"""The admin request context: the shared one plus per-request loaders."""

from __future__ import annotations

from typing import Any

from shared.context import RequestContext
from subgraphs.admin.loaders import Loaders


class Context(RequestContext):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.loaders = Loaders(self.db)
