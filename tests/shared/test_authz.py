"""The one enforcement of @authenticated / @requiresScopes / @policy, on a small schema."""

from __future__ import annotations

import uuid
from typing import Any, cast

import pytest
import strawberry

from shared import router_signature
from shared.context import Principal, RequestContext
from shared.errors import NotFound, Unauthenticated
from shared.schema import SubgraphSchema, build_schema
from shared.scopes import Role, scopes_for

OWNER = uuid.UUID("00000000-0000-0000-0000-0000000000aa")
SECRET = "authz-test-secret"


@strawberry.federation.type(keys=["id"])
class Account:
    id: strawberry.ID
    name: str

    @strawberry.federation.field(policy=[["self_or_admin"]])
    def secret(self) -> str:
        return f"secret of {self.id}"

    @strawberry.federation.field(policy=[["self_or_admin_async"]])
    async def async_secret(self) -> str:
        return "async secret"

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Account:
        return cls(id=id, name="ref")


@strawberry.type
class Query:
    @strawberry.field
    def public(self) -> str:
        return "hello"

    @strawberry.federation.field(authenticated=True)
    def me(self, info: strawberry.Info) -> str:
        return str(info.context.principal.email)

    @strawberry.federation.field(requires_scopes=[["admin"]])
    def admin_only(self) -> str:
        return "admin"

    @strawberry.federation.field(
        requires_scopes=[["payments:refund", "payments:report"], ["admin"]]
    )
    def vendor_or_admin(self) -> str:
        return "ok"

    @strawberry.field
    def account(self, id: strawberry.ID) -> Account:
        return Account(id=id, name="a")

    @strawberry.field
    def missing(self) -> str:
        raise NotFound("No such thing")

    @strawberry.field
    def broken(self) -> str:
        raise RuntimeError("SELECT * FROM secrets WHERE password = 'hunter2'")


def self_or_admin(principal: Principal, root: Any, args: dict[str, Any]) -> bool:
    return principal.is_admin or str(principal.id) == str(root.id)


async def self_or_admin_async(principal: Principal, root: Any, args: dict[str, Any]) -> bool:
    return self_or_admin(principal, root, args)


def make_schema(secret: str | None = None) -> SubgraphSchema:
    return build_schema(
        query=Query,
        types=(Account,),
        policies={"self_or_admin": self_or_admin, "self_or_admin_async": self_or_admin_async},
        router_secret=secret,
    )


SCHEMA = make_schema()


def principal(role: Role, user_id: uuid.UUID | None = None) -> Principal:
    return Principal(
        id=user_id or uuid.uuid4(),
        email=f"{role.lower()}@example.com",
        role=role,
        scopes=scopes_for(role),
        jti="j",
        issued_at=0,
        expires_at=0,
        session_id="s",
    )


def context(who: Principal | None, auth_error: Exception | None = None) -> RequestContext:
    return RequestContext(
        request_id="r",
        client_ip=None,
        principal=who,
        auth_error=cast(Any, auth_error),
        sessionmaker=cast(Any, None),
        redis=cast(Any, None),
    )


async def run(
    query: str,
    who: Principal | None,
    schema: SubgraphSchema = SCHEMA,
    extensions: dict[str, Any] | None = None,
    variables: dict[str, Any] | None = None,
) -> tuple[Any, list[str]]:
    result = await schema.execute(
        query,
        variable_values=variables,
        context_value=context(who),
        operation_extensions=extensions,
    )
    codes = [e.extensions["code"] for e in result.errors or []]  # type: ignore[index]
    return result.data, codes


async def test_public_field_needs_nothing() -> None:
    assert await run("{ public }", None) == ({"public": "hello"}, [])


@pytest.mark.parametrize(
    ("role", "me", "admin_only", "vendor_or_admin"),
    [
        (None, "UNAUTHENTICATED", "UNAUTHENTICATED", "UNAUTHENTICATED"),
        (Role.CUSTOMER, None, "FORBIDDEN", "FORBIDDEN"),
        (Role.VENDOR, None, "FORBIDDEN", None),
        (Role.ADMIN, None, None, None),
    ],
)
async def test_matrix(
    role: Role | None, me: str | None, admin_only: str | None, vendor_or_admin: str | None
) -> None:
    who = principal(role) if role else None
    for field, expected in (
        ("me", me),
        ("adminOnly", admin_only),
        ("vendorOrAdmin", vendor_or_admin),
    ):
        data, codes = await run(f"{{ {field} }}", who)
        if expected is None:
            assert codes == []
            assert data[field]
        else:
            assert codes == [expected], field
            assert data is None


@pytest.mark.parametrize("field", ["secret", "asyncSecret"])
async def test_policy_owner_admin_stranger(field: str) -> None:
    query = f'{{ account(id: "{OWNER}") {{ name {field} }} }}'
    data, codes = await run(query, principal(Role.CUSTOMER, OWNER))
    assert codes == []
    assert data["account"][field]
    data, codes = await run(query, principal(Role.ADMIN))
    assert codes == []
    data, codes = await run(query, principal(Role.VENDOR))
    assert codes == ["FORBIDDEN"]


async def test_policy_holds_inside_entities() -> None:
    query = (
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Account { id secret } } }"
    )

    def variables() -> dict[str, Any]:
        # Fresh each time: Strawberry consumes `__typename` from the representations it is given.
        return {"r": [{"__typename": "Account", "id": str(OWNER)}]}

    data, codes = await run(query, principal(Role.VENDOR), variables=variables())
    assert codes == ["FORBIDDEN"]
    data, codes = await run(query, principal(Role.CUSTOMER, OWNER), variables=variables())
    assert codes == []
    assert data["_entities"][0]["secret"] == f"secret of {OWNER}"


async def test_domain_errors_keep_their_code() -> None:
    _, codes = await run("{ missing }", None)
    assert codes == ["NOT_FOUND"]


async def test_unexpected_errors_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    result = await SCHEMA.execute("{ broken }", context_value=context(None))
    assert result.errors is not None
    error = result.errors[0]
    assert error.message == "Internal server error"
    assert error.extensions == {"code": "INTERNAL_SERVER_ERROR"}
    assert "hunter2" not in caplog.text
    [record] = [r for r in caplog.records if r.name == "bff.errors"]
    assert record.error_type == "RuntimeError"  # type: ignore[attr-defined]
    assert record.where.startswith("test_authz.py:")  # type: ignore[attr-defined]
    assert record.exc_info is None


async def test_validation_errors_are_bad_user_input() -> None:
    _, codes = await run("{ nope }", None)
    assert codes == ["BAD_USER_INPUT"]


async def test_bad_token_fails_the_whole_operation() -> None:
    result = await SCHEMA.execute(
        "{ public }", context_value=context(None, Unauthenticated("Token expired"))
    )
    assert [e.extensions["code"] for e in result.errors or []] == ["UNAUTHENTICATED"]  # type: ignore[index]


async def test_router_signature_required_when_configured() -> None:
    signed = make_schema(SECRET)
    query = "{ public }"
    _, codes = await run(query, None, signed)
    assert codes == ["FORBIDDEN"]
    wrong = {router_signature.SIGNATURE_EXTENSION: router_signature.sign("other", query, None)}
    _, codes = await run(query, None, signed, extensions=wrong)
    assert codes == ["FORBIDDEN"]
    good = {router_signature.SIGNATURE_EXTENSION: router_signature.sign(SECRET, query, None)}
    assert await run(query, None, signed, extensions=good) == ({"public": "hello"}, [])


def test_unknown_policy_fails_at_start_up() -> None:
    with pytest.raises(RuntimeError, match="unknown policy"):
        build_schema(query=Query, types=(Account,), policies={}, router_secret=None)


def test_directives_are_in_the_sdl() -> None:
    sdl = SCHEMA.as_str()
    assert '@requiresScopes(scopes: [["admin"]])' in sdl
    assert '@policy(policies: [["self_or_admin"]])' in sdl
    assert "@authenticated" in sdl
