"""The admin subgraph over GraphQL: ADMIN only, system config. (The user directory and the
ADMIN-only user fields are auth's: tests/auth/test_directory.py.)"""

from __future__ import annotations

from shared.scopes import Role
from subgraphs.admin.config import DEFAULTS, validate_config
from subgraphs.admin.schema import create_schema
from tests.helpers import Subgraph, error_codes
from tests.sdl import without_descriptions

CONFIG = "{ systemConfig { key value description updatedAt updatedBy { id } } }"
ADMIN_SCOPE = '@requiresScopes(scopes: [["admin"]])'


def test_every_field_is_admin_only_in_the_sdl() -> None:
    sdl = without_descriptions(create_schema(None).as_str())
    assert f"systemConfig: [ConfigEntry!]! {ADMIN_SCOPE}" in sdl
    assert f"setSystemConfig(key: String!, value: JSON!): ConfigEntry! {ADMIN_SCOPE}" in sdl
    assert 'type User @key(fields: "id")' in sdl


async def test_only_admin_may_read_config(admin: Subgraph) -> None:
    assert error_codes(await admin.gql(CONFIG, as_=admin.caller(Role.VENDOR))) == ["FORBIDDEN"]


async def test_system_config_returns_the_typed_seed(admin: Subgraph) -> None:
    data = await admin.ok(CONFIG, as_=admin.caller(Role.ADMIN))
    entries = {e["key"]: e for e in data["systemConfig"]}
    assert {k: e["value"] for k, e in entries.items() if k in DEFAULTS} == dict(DEFAULTS)
    for key, entry in entries.items():
        validate_config(key, entry["value"])
        assert entry["updatedAt"].endswith("+00:00")
    assert entries["payments.limits.INR"]["value"]["minimum"] == "1.00"
    assert entries["payments.limits.INR"]["updatedBy"] is None
    assert "per user" in entries["payments.limits.INR"]["description"]


async def test_health(admin: Subgraph) -> None:
    assert (await admin.client.get("/healthz")).json()["service"] == "admin"
