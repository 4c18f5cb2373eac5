"""The example MFE (examples/mfe) in headless Chromium, against the whole system: the built MFE
served on its own port, the real router, the four subgraphs, the sidecar and the Razorpay
simulator (whose checkout.js the page loads), on a database and Redis of their own.

Chromium is Debian's `/usr/bin/chromium` (`make test` installs it when missing), driven by
Playwright's Python API: `playwright install` is never used. A failing test leaves a screenshot
and the page's console log under `build/test-artifacts/browser/`, and the stack's process logs
(secrets redacted) under `build/test-artifacts/stack-logs/browser/` (TEST_ARTIFACTS_DIR)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from devtools.devstack import DevStack
from devtools.mfe_server import MFE_DIR
from tests.conftest import Infra
from tests.e2e.conftest import (
    ARTIFACTS,
    SEED_PASSWORD,
    Client,
    own_database,
    report_stack_logs,
    start_stack,
)

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
# Playwright's waits: generous, a loaded machine runs six test suites at once.
TIMEOUT_MS = 30_000
expect.set_options(timeout=TIMEOUT_MS)

__all__ = ["SEED_PASSWORD"]


def build_mfe() -> None:
    """The MFE's production build (what `make mfe-build` does), so the test sees the sources."""
    npm = shutil.which("npm") or "npm"
    if not (MFE_DIR / "node_modules" / ".bin" / "vite").exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=MFE_DIR, check=True)
    subprocess.run([npm, "run", "--silent", "build"], cwd=MFE_DIR, check=True)


@pytest.fixture(scope="package")
def browser_stack(infra: Infra) -> Iterator[DevStack]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (apt-get install chromium)")
    build_mfe()
    with own_database(infra.database_url) as database_url:
        # start_stack's random router secret is production-grade (32+ characters), so that a
        # router in production mode (test_trusted_documents.py) can call these subgraphs too.
        stack = start_stack(infra, database_url, serve_mfe=True, name="browser")
        try:
            yield stack
        finally:
            stack.stop()


@pytest.fixture(scope="package")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            # As root (CI containers) Chromium refuses to start with its sandbox.
            args=["--no-sandbox"] if os.geteuid() == 0 else [],
        )
        yield chromium
        await chromium.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    report_stack_logs(item, report)
    return report


@pytest.fixture
async def page(
    browser: Browser, browser_stack: DevStack, request: pytest.FixtureRequest
) -> AsyncIterator[Page]:
    """A fresh browser context (no cookies, no storage) on the MFE's page."""
    context = await browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    tab = await context.new_page()
    console: list[str] = []
    tab.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    tab.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    await tab.goto(browser_stack.url("mfe", "/"))
    yield tab
    failed = any(
        getattr(getattr(request.node, f"rep_{when}", None), "failed", False)
        for when in ("setup", "call")
    )
    if failed:
        folder = ARTIFACTS / "browser"
        folder.mkdir(parents=True, exist_ok=True)
        name = request.node.name.replace("/", "_")
        await tab.screenshot(path=str(folder / f"{name}.png"), full_page=True)
        (folder / f"{name}.console.txt").write_text("\n".join(console))
    await context.close()


@pytest.fixture
async def client(browser_stack: DevStack) -> AsyncIterator[Client]:
    """The system through the router, as a script would call it (for setting up accounts)."""
    async with httpx.AsyncClient(timeout=20.0) as http:
        yield Client(browser_stack, http)
