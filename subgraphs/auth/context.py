"""The auth subgraph's request context: the shared one plus loaders and the service runtime."""

from __future__ import annotations

from typing import Any, ClassVar

from shared.context import RequestContext
from subgraphs.auth.loaders import Loaders
from subgraphs.auth.runtime import AuthRuntime


class Context(RequestContext):
    runtime: ClassVar[AuthRuntime]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.loaders = Loaders(self.db)


def bind_context(runtime: AuthRuntime) -> type[Context]:
    """A context class carrying this app's runtime (the app factory builds contexts itself)."""

    class BoundContext(Context):
        pass

    BoundContext.runtime = runtime
    return BoundContext
