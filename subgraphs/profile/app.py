"""The profile subgraph's ASGI app.

Run: `uvicorn --factory subgraphs.profile.app:create_app`.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from shared.app import create_subgraph_app
from shared.config import ProfileSettings, Settings, profile_settings
from shared.tokens import TokenVerifier
from subgraphs.profile.avatar_store import AVATAR_ROUTES, store_for
from subgraphs.profile.body_limit import BodyLimitMiddleware
from subgraphs.profile.consumers import start_events, stop_events
from subgraphs.profile.context import Context
from subgraphs.profile.schema import create_schema


def create_app(
    settings: ProfileSettings | None = None,
    *,
    verifier_factory: Callable[[Settings], TokenVerifier] | None = None,
) -> FastAPI:
    settings = settings or profile_settings()
    store = store_for(settings)

    class AppContext(Context):
        avatar_store = store

    app = create_subgraph_app(
        settings=settings,
        schema_factory=create_schema,
        context_class=AppContext,
        verifier_factory=verifier_factory,
        routes=AVATAR_ROUTES,
        on_startup=(start_events,),
        on_shutdown=(stop_events,),
    )
    app.add_middleware(BodyLimitMiddleware)
    return app
