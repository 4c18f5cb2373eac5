"""Shared readers of the deployment files (hermetic: files only, no Docker engine, no network)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
OPERATIONS_DOC = ROOT / "docs" / "operations.md"
DEPLOY = ROOT / "deploy"
KUBERNETES = DEPLOY / "kubernetes"

# Names of settings that hold a secret: never a literal value, never a default.
SECRET_NAME = re.compile(r"(SECRET|PASSWORD|PRIVATE_KEY|DATABASE_URL|REDIS_URL)")


@cache
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict)
    return data


def services() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose()["services"]
    return found


def environment(service: dict[str, Any]) -> dict[str, Any]:
    env = service.get("environment") or {}
    assert isinstance(env, dict), "environment is written as a mapping"
    return env


@cache
def env_example_names() -> frozenset[str]:
    """Variables .env.example lists, set (`NAME=`) or optional (`# NAME=`)."""
    text = ENV_EXAMPLE.read_text()
    return frozenset(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, flags=re.M))


@cache
def operations_doc() -> str:
    return OPERATIONS_DOC.read_text()


def markdown_anchors(text: str) -> set[str]:
    """GitHub-style anchors of the headings of a Markdown text."""
    anchors = set()
    for heading in re.findall(r"^#+\s+(.+?)\s*$", text, flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).strip().replace(" ", "-")
        anchors.add(slug)
    return anchors
