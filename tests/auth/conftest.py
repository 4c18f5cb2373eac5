"""Fixtures of the auth tests: a signing key, a mail sink, the in-process auth app (also as a
`Subgraph`, for tests that call it as arbitrary users, e.g. an ADMIN administering accounts)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest

from devtools.mailsink import MailSink
from shared.app import Resources
from shared.config import AuthSettings
from shared.tokens import TokenVerifier, generate_private_key_pem
from subgraphs.auth.runtime import AuthRuntime
from tests.auth.support import AuthHarness, auth_settings, running_harness
from tests.conftest import Infra
from tests.helpers import Subgraph, verifier_factory


@pytest.fixture(scope="session")
def private_pem() -> bytes:
    return generate_private_key_pem()


@pytest.fixture(scope="package")
def mail_sink(infra: Infra) -> Iterator[tuple[Path, int]]:
    directory = infra.data_dir / "auth-mail"
    # An explicit free port: aiosmtpd's Controller cannot start on port 0 (it probes the port).
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = int(probe.getsockname()[1])
    sink = MailSink(directory, port=free_port)
    port = sink.start()
    try:
        yield directory, port
    finally:
        sink.stop()


@pytest.fixture(scope="package")
def make_settings(
    infra: Infra, private_pem: bytes, mail_sink: tuple[Path, int]
) -> Callable[..., AuthSettings]:
    def make(**overrides: Any) -> AuthSettings:
        overrides.setdefault("smtp_port", mail_sink[1])
        return auth_settings(
            database_url=infra.database_url,
            redis_url=infra.redis_url,
            private_pem=private_pem,
            **overrides,
        )

    return make


@pytest.fixture(scope="package")
def make_harness(
    make_settings: Callable[..., AuthSettings], mail_sink: tuple[Path, int]
) -> Callable[..., AbstractAsyncContextManager[AuthHarness]]:
    """An auth app with its own settings (for limits, lockout...), used as a context manager."""

    def make(**overrides: Any) -> AbstractAsyncContextManager[AuthHarness]:
        return running_harness(make_settings(**overrides), mail_sink[0])

    return make


@pytest.fixture(scope="package")
async def auth(
    make_harness: Callable[..., AbstractAsyncContextManager[AuthHarness]],
) -> AsyncIterator[AuthHarness]:
    """The auth app most tests share (generous rate limits; every test uses fresh e-mails)."""
    async with make_harness() as harness:
        yield harness


@pytest.fixture(scope="package")
def auth_subgraph(auth: AuthHarness) -> Subgraph:
    """The shared auth app, called with tokens its own keys sign for any user and role."""
    resources: Resources = auth.app.state.resources
    return Subgraph(
        client=auth.client, engine=resources.engine, settings=auth.settings, keys=auth.runtime.keys
    )


@pytest.fixture(scope="package")
def auth_runtime(auth: AuthHarness) -> AuthRuntime:
    """The shared app's rules and keys (logins of the accounts an ADMIN manages)."""
    return auth.runtime


@pytest.fixture(scope="package")
def auth_verifier(auth: AuthHarness) -> TokenVerifier:
    """What every subgraph verifies auth's access tokens with (auth's JWKS, read locally)."""
    return verifier_factory(auth.runtime.keys)(auth.settings)
