"""The RBAC matrix: every guarded field, for no token / CUSTOMER / VENDOR / ADMIN, through the
router AND directly against the owning subgraph (router-signed), giving the same codes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Client

ROLES = ("anonymous", "CUSTOMER", "VENDOR", "ADMIN")
EMAILS = {
    "CUSTOMER": "customer@example.com",
    "VENDOR": "vendor@example.com",
    "ADMIN": "admin@example.com",
}
A = "UNAUTHENTICATED"
F = "FORBIDDEN"
OK = None

# (name, owning subgraph, operation, expected code per role in ROLES order)
MATRIX: list[tuple[str, str, str, tuple[str | None, ...]]] = [
    ("me", "auth", "{ me { id email role } }", (A, OK, OK, OK)),
    ("payments", "payments", "{ payments { totalCount } }", (A, OK, OK, OK)),
    ("users", "auth", "{ users { totalCount } }", (A, F, F, OK)),
    ("systemConfig", "admin", "{ systemConfig { key } }", (A, F, F, OK)),
    ("myProfile", "profile", "{ myProfile { bio preferences } }", (A, OK, OK, OK)),
    (
        "updatePreferences",
        "profile",
        'mutation { updatePreferences(preferences: {theme: "dark"}) { preferences } }',
        (A, OK, OK, OK),
    ),
    (
        "updatePreferences-unknown-key",
        "profile",
        "mutation { updatePreferences(preferences: {colour: 1}) { preferences } }",
        (A, "BAD_USER_INPUT", "BAD_USER_INPUT", "BAD_USER_INPUT"),
    ),
    (
        "updateProfile-bad-phone",
        "profile",
        'mutation { updateProfile(input: {phone: "12"}) { phone } }',
        (A, "BAD_USER_INPUT", "BAD_USER_INPUT", "BAD_USER_INPUT"),
    ),
    ("deleteAvatar", "profile", "mutation { deleteAvatar { avatarUrl } }", (A, OK, OK, OK)),
    ("preferencesSchema", "profile", "{ preferencesSchema }", (OK, OK, OK, OK)),
    ("auditLogs", "admin", "{ auditLogs(first: 5) { totalCount } }", (A, F, F, OK)),
    (
        "analytics",
        "admin",
        '{ analytics(from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z") '
        "{ usersByRole { role count } } }",
        (A, F, F, OK),
    ),
    ("deadLetters", "admin", "{ deadLetters { totalCount } }", (A, F, F, OK)),
    ("systemHealth", "admin", "{ systemHealth { status } }", (A, F, F, OK)),
    (
        "setUserRole",
        "auth",
        'mutation { setUserRole(id: "00000000-0000-0000-0000-000000000000", role: VENDOR) { id } }',
        (A, F, F, "NOT_FOUND"),
    ),
    (
        "paymentReport",
        "payments",
        '{ paymentReport(from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z") '
        "{ totals { currency count gross } } }",
        (A, F, OK, OK),
    ),
    (
        "refundPayment",
        "payments",
        'mutation { refundPayment(id: "00000000-0000-0000-0000-000000000000") { id } }',
        (A, F, "NOT_FOUND", "NOT_FOUND"),
    ),
    (
        "createPayment",
        "payments",
        'mutation { createPayment(input: {amount: "0.001", currency: "INR"}) { id } }',
        (A, "BAD_USER_INPUT", "BAD_USER_INPUT", "BAD_USER_INPUT"),
    ),
]


@pytest.fixture(scope="module")
def tokens() -> dict[str, str | None]:
    return {}


async def token_for(client: Client, tokens: dict[str, str | None], role: str) -> str | None:
    if role == "anonymous":
        return None
    if role not in tokens:
        tokens[role] = await client.login(EMAILS[role])
    return tokens[role]


def codes(result: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in result.get("errors") or []]


@pytest.mark.parametrize(
    ("name", "service", "query", "expected"), MATRIX, ids=[m[0] for m in MATRIX]
)
@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=ROLES)
async def test_matrix_router_and_direct(
    client: Client,
    tokens: dict[str, str | None],
    name: str,
    service: str,
    query: str,
    expected: tuple[str | None, ...],
    role_index: int,
) -> None:
    token = await token_for(client, tokens, ROLES[role_index])
    want = expected[role_index]
    for target in ("router", service):
        result = await client.gql(query, token=token, target=target)
        if want is None:  # allowed: data, no error
            assert "errors" not in result, (target, result)
            assert result["data"] is not None
        else:
            assert codes(result) == [want], (target, result)


async def test_user_entity_fields_across_subgraphs(
    client: Client, tokens: dict[str, str | None]
) -> None:
    """`me` is resolved by auth; `payments` and `profile` by their subgraphs through `_entities`."""
    token = await token_for(client, tokens, "CUSTOMER")
    result = await client.gql(
        "{ me { id email payments { totalCount } profile { phone address preferences } } }",
        token=token,
    )
    assert "errors" not in result, result
    me = result["data"]["me"]
    assert me["email"] == "customer@example.com"
    assert me["payments"]["totalCount"] >= 0
    assert me["profile"]["preferences"] is not None


async def test_admin_only_user_fields(client: Client, tokens: dict[str, str | None]) -> None:
    admin = await token_for(client, tokens, "ADMIN")
    customer = await token_for(client, tokens, "CUSTOMER")
    query = '{ users(filter: {search: "customer@"}) { edges { node { email lastLoginAt } } } }'
    result = await client.gql(query, token=admin)
    assert "errors" not in result, result
    [edge] = result["data"]["users"]["edges"]
    assert edge["node"]["email"] == "customer@example.com"
    assert edge["node"]["lastLoginAt"] is not None
    result = await client.gql("{ me { lastLoginAt } }", token=customer)
    assert codes(result) == [F], result


async def test_other_users_phone_is_forbidden(
    client: Client, tokens: dict[str, str | None]
) -> None:
    admin = await token_for(client, tokens, "ADMIN")
    vendor = await token_for(client, tokens, "VENDOR")
    listing = await client.gql(
        '{ users(filter: {search: "customer@"}) { edges { node { id } } } }', token=admin
    )
    customer_id = listing["data"]["users"]["edges"][0]["node"]["id"]
    query = (
        "query($r: [_Any!]!) { _entities(representations: $r) "
        "{ ... on User { profile { bio phone } } } }"
    )
    variables = {"r": [{"__typename": "User", "id": customer_id}]}
    # Straight to the profile subgraph, as the router would send it.
    result = await client.gql(query, variables, token=vendor, target="profile")
    assert codes(result) == [F], result
    result = await client.gql(query, variables, token=admin, target="profile")
    assert "errors" not in result, result


async def test_unsigned_request_to_a_subgraph_is_refused(client: Client) -> None:
    for service in ("auth", "payments", "admin", "profile"):
        result = await client.gql("{ __typename }", target=service, signed=False)
        assert codes(result) == [F], (service, result)


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4Iiwicm9sZSI6IkFETUlOIn0.",
    ],
    ids=["garbage", "alg-none"],
)
async def test_bad_tokens_are_unauthenticated_everywhere(client: Client, token: str) -> None:
    queries = {
        "router": "{ me { id } }",
        "auth": "{ me { id } }",
        "admin": "{ systemConfig { key } }",
    }
    for target, query in queries.items():
        result = await client.gql(query, token=token, target=target)
        assert codes(result) == [A], (target, result)
