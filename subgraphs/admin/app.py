"""The admin subgraph's ASGI app.

Run: `uvicorn --factory subgraphs.admin.app:create_app`.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from shared.app import create_subgraph_app
from shared.config import AdminSettings, Settings, admin_settings
from shared.tokens import TokenVerifier
from subgraphs.admin.consumers import start_events, stop_events
from subgraphs.admin.context import Context
from subgraphs.admin.schema import create_schema


def create_app(
    settings: AdminSettings | None = None,
    *,
    verifier_factory: Callable[[Settings], TokenVerifier] | None = None,
) -> FastAPI:
    return create_subgraph_app(
        settings=settings or admin_settings(),
        schema_factory=create_schema,
        context_class=Context,
        verifier_factory=verifier_factory,
        on_startup=(start_events,),
        on_shutdown=(stop_events,),
    )
