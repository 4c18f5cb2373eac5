"""The profile subgraph's ASGI app.

Run: `uvicorn --factory subgraphs.profile.app:create_app`.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from shared.app import create_subgraph_app
from shared.config import ProfileSettings, Settings, profile_settings
from shared.tokens import TokenVerifier
from subgraphs.profile.context import Context
from subgraphs.profile.schema import create_schema


def create_app(
    settings: ProfileSettings | None = None,
    *,
    verifier_factory: Callable[[Settings], TokenVerifier] | None = None,
) -> FastAPI:
    return create_subgraph_app(
        settings=settings or profile_settings(),
        schema_factory=create_schema,
        context_class=Context,
        verifier_factory=verifier_factory,
    )
