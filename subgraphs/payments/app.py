"""The payments subgraph's ASGI app.

Run: `uvicorn --factory subgraphs.payments.app:create_app`.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from shared.app import create_subgraph_app
from shared.config import PaymentsSettings, Settings, payments_settings
from shared.tokens import TokenVerifier
from subgraphs.payments.context import Context
from subgraphs.payments.schema import create_schema


def create_app(
    settings: PaymentsSettings | None = None,
    *,
    verifier_factory: Callable[[Settings], TokenVerifier] | None = None,
) -> FastAPI:
    return create_subgraph_app(
        settings=settings or payments_settings(),
        schema_factory=create_schema,
        context_class=Context,
        verifier_factory=verifier_factory,
    )
