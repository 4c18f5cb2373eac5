"""The Dockerfiles, read statically (no Docker engine here, nothing is built): multi-stage, no dev
tooling, non-root, a healthcheck and a default command; .dockerignore keeps secrets and caches
out of the build context."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.deploy.helpers import ROOT


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    found = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def final_stage(path: Path) -> list[tuple[str, str]]:
    steps = instructions(path)
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from:]


def ignored(path: Path) -> set[str]:
    return {
        line.strip()
        for line in path.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }


@pytest.mark.parametrize("dockerfile", ["Dockerfile", "router/Dockerfile"])
def test_runtime_stage_is_non_root_with_healthcheck_and_cmd(dockerfile: str) -> None:
    steps = instructions(ROOT / dockerfile)
    assert sum(keyword == "FROM" for keyword, _ in steps) >= 2, "multi-stage build"
    final = final_stage(ROOT / dockerfile)
    users = [args for keyword, args in final if keyword == "USER"]
    assert users, "the runtime stage sets USER"
    assert users[-1].split(":")[0] not in ("root", "0"), users[-1]
    assert any(keyword == "HEALTHCHECK" and "CMD" in args for keyword, args in final)
    assert any(keyword == "CMD" for keyword, _ in final)
    assert not any(keyword == "ADD" for keyword, _ in steps), "COPY, never ADD"


def test_python_image_has_no_dev_tooling() -> None:
    steps = instructions(ROOT / "Dockerfile")
    syncs = [args for keyword, args in steps if keyword == "RUN" and "uv sync" in args]
    assert syncs
    assert all("--no-dev" in args for args in syncs)
    assert all("--frozen" in args for args in syncs)
    copies = [args for keyword, args in steps if keyword == "COPY"]
    for args in copies:
        for forbidden in ("devtools", "tests", ".data", ". .", "router"):
            assert forbidden not in args.split(), f"COPY {args}"
    assert not any(keyword == "COPY" and args.startswith(". ") for keyword, args in steps)
    # The runtime stage copies from the builder only; uv itself stays in the builder.
    final = final_stage(ROOT / "Dockerfile")
    assert not any(
        "uv" in args.split() or "uv==" in args for keyword, args in final if keyword == "RUN"
    )
    makefile = (ROOT / "Makefile").read_text()
    uv_version = re.search(r"^UV_VERSION := (\S+)", makefile, flags=re.M)
    assert uv_version
    assert f"uv=={uv_version.group(1)}" in (ROOT / "Dockerfile").read_text()


def test_python_image_has_a_writable_avatar_volume() -> None:
    final = final_stage(ROOT / "Dockerfile")
    env = " ".join(args for keyword, args in final if keyword == "ENV")
    avatar_dir = re.search(r"AVATAR_DIR=(\S+)", env)
    assert avatar_dir, "AVATAR_DIR is set in the image"
    volumes = " ".join(args for keyword, args in final if keyword == "VOLUME")
    assert avatar_dir.group(1) in volumes
    runs = " ".join(args for keyword, args in final if keyword == "RUN")
    assert re.search(r"install -d -o bff -g bff .*" + re.escape(avatar_dir.group(1)), runs)
    user = next(args for keyword, args in reversed(final) if keyword == "USER")
    assert "10001" in user
    assert "--uid 10001" in runs


def test_router_image_installs_its_own_node_modules() -> None:
    steps = instructions(ROOT / "router" / "Dockerfile")
    text = " | ".join(f"{keyword} {args}" for keyword, args in steps)
    assert "npm ci" in text
    copies = [args for keyword, args in steps if keyword == "COPY"]
    assert not any(args.startswith(". ") for args in copies), (
        "COPY . . would bring the host's files"
    )
    assert any(args.startswith("--from=deps") and "node_modules" in args for args in copies)
    assert any("supergraph.graphql" in args for args in copies)
    for args in copies:
        sources = [part for part in args.split() if not part.startswith("--")][:-1]
        for source in sources:
            if not any(args.startswith(f"--from={stage}") for stage in ("deps", "schema")):
                assert (ROOT / "router" / source).exists(), f"COPY {source}: missing"


def test_dockerignore_keeps_secrets_and_caches_out() -> None:
    root = ignored(ROOT / ".dockerignore")
    wanted = [".data", ".venv", ".tools", "node_modules", ".git", "devtools", "tests"]
    wanted += [".pytest_cache", ".mypy_cache", ".ruff_cache", ".env", "**/__pycache__"]
    for entry in wanted:
        assert entry in root, entry
    router = ignored(ROOT / "router" / ".dockerignore")
    for entry in ("node_modules", ".git", ".data", ".env"):
        assert entry in router, entry
    # What the root Dockerfile copies from the context is not ignored.
    for keyword, args in instructions(ROOT / "Dockerfile"):
        if keyword == "COPY" and not args.startswith("--from"):
            for source in args.split()[:-1]:
                assert source.rstrip("/") not in root, f"{source} is copied but ignored"
                assert (ROOT / source).exists(), source
