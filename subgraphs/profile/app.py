"""The profile subgraph's ASGI app.

Run: `uvicorn --factory subgraphs.profile.app:create_app`.
"""

from __future__ import annotations

from fastapi import FastAPI

from shared.app import create_subgraph_app
from shared.config import ProfileSettings, profile_settings
from shared.consumers import service_events
from subgraphs.profile.avatar_store import AVATAR_ROUTES
from subgraphs.profile.body_limit import BodyLimitMiddleware
from subgraphs.profile.consumers import SCHEMA, consumers
from subgraphs.profile.context import Context, ProfileDeps
from subgraphs.profile.schema import create_schema


def create_app(
    settings: ProfileSettings | None = None, *, deps: ProfileDeps | None = None
) -> FastAPI:
    settings = settings or profile_settings()
    deps = deps or ProfileDeps.from_settings(settings)
    app = create_subgraph_app(
        settings=settings,
        schema_factory=create_schema,
        context_class=Context,
        deps=deps,
        background=service_events(SCHEMA, consumers(deps.avatar_store)),
        routes=AVATAR_ROUTES,
    )
    app.add_middleware(BodyLimitMiddleware)
    return app
