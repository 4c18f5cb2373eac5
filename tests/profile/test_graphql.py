"""The profile subgraph over GraphQL: own profile, field-level owner-or-admin, validation."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.scopes import Role
from subgraphs.profile.schema import create_schema
from tests.helpers import Subgraph, count_statements, error_codes
from tests.sdl import without_descriptions

FIELDS = "phone address bio avatarUrl preferences"
MY = f"{{ myProfile {{ {FIELDS} }} }}"
UPDATE = f"""mutation U($input: UpdateProfileInput!) {{
  updateProfile(input: $input) {{ {FIELDS} }} }}"""
PREFS = f"mutation P($p: JSON!) {{ updatePreferences(preferences: $p) {{ {FIELDS} }} }}"
ENTITIES = f"""query E($r: [_Any!]!) {{
  _entities(representations: $r) {{ ... on User {{ id profile {{ {FIELDS} }} }} }} }}"""
EMPTY = {"phone": None, "address": None, "bio": None, "avatarUrl": None, "preferences": {}}


def reps(*ids: uuid.UUID | str) -> dict[str, object]:
    return {"r": [{"__typename": "User", "id": str(i)} for i in ids]}


def test_sdl_declares_owner_or_admin_on_phone_and_address() -> None:
    sdl = without_descriptions(create_schema(None).as_str())
    assert 'phone: String @policy(policies: [["owner_or_admin"]])' in sdl
    assert 'address: String @policy(policies: [["owner_or_admin"]])' in sdl
    assert "myProfile: Profile! @authenticated" in sdl
    assert "profile: Profile @authenticated" in sdl
    upload = 'uploadAvatar(file: Upload!): Profile! @authenticated @requiresScopes(scopes: [["'
    assert upload + 'profile:write"]])' in sdl


async def test_my_profile_defaults_without_storing(
    profile: Subgraph, profile_engine: AsyncEngine
) -> None:
    me = profile.caller(Role.CUSTOMER)
    assert (await profile.ok(MY, as_=me))["myProfile"] == EMPTY
    async with profile_engine.connect() as conn:
        stored = await conn.scalar(
            text("SELECT count(*) FROM profile.profiles WHERE user_id = :id"), {"id": me.id}
        )
    assert stored == 0
    assert error_codes(await profile.gql(MY)) == ["UNAUTHENTICATED"]
    assert error_codes(await profile.gql(MY, as_=me, signed=False)) == ["FORBIDDEN"]


async def test_update_profile_and_validation(profile: Subgraph) -> None:
    me = profile.caller(Role.VENDOR)
    saved = await profile.ok(
        UPDATE,
        {"input": {"phone": "+44 20 7946 0958", "address": "1 High St", "bio": "Hello"}},
        as_=me,
    )
    assert saved["updateProfile"] == {
        **EMPTY,
        "phone": "+442079460958",
        "address": "1 High St",
        "bio": "Hello",
    }
    # Fields left out stay; null clears.
    changed = await profile.ok(UPDATE, {"input": {"bio": None}}, as_=me)
    assert changed["updateProfile"]["bio"] is None
    assert changed["updateProfile"]["phone"] == "+442079460958"
    assert (await profile.ok(MY, as_=me))["myProfile"] == changed["updateProfile"]

    for bad, field in [
        ({"phone": "07946 0958"}, "phone"),
        ({"phone": "+123456789012345678"}, "phone"),
        ({"address": "a" * 501}, "address"),
        ({"bio": "b" * 1001}, "bio"),
        ({"bio": "nul\x00byte"}, "bio"),
    ]:
        result = await profile.gql(UPDATE, {"input": bad}, as_=me)
        assert error_codes(result) == ["BAD_USER_INPUT"], bad
        assert result["errors"][0]["extensions"]["field"] == field
    assert (await profile.ok(MY, as_=me))["myProfile"]["phone"] == "+442079460958"

    edge = await profile.ok(UPDATE, {"input": {"address": "a" * 500, "bio": "b" * 1000}}, as_=me)
    assert len(edge["updateProfile"]["bio"]) == 1000

    assert error_codes(await profile.gql(UPDATE, {"input": {"bio": "x"}})) == ["UNAUTHENTICATED"]
    no_scope = profile.caller(Role.CUSTOMER, scopes=frozenset({"payments:read"}))
    assert error_codes(await profile.gql(UPDATE, {"input": {"bio": "x"}}, as_=no_scope)) == [
        "FORBIDDEN"
    ]


async def test_update_preferences(profile: Subgraph) -> None:
    me = profile.caller(Role.CUSTOMER)
    first = await profile.ok(
        PREFS, {"p": {"theme": "dark", "notifications": {"email": True}}}, as_=me
    )
    assert first["updatePreferences"]["preferences"] == {
        "theme": "dark",
        "notifications": {"email": True},
    }
    second = await profile.ok(
        PREFS, {"p": {"theme": None, "language": "hi", "notifications": {"sms": False}}}, as_=me
    )
    assert second["updatePreferences"]["preferences"] == {
        "language": "hi",
        "notifications": {"email": True, "sms": False},
    }
    for bad, field in [
        ({"favouriteColour": "red"}, "preferences.favouriteColour"),
        ({"theme": "neon"}, "preferences.theme"),
        ({"notifications": {"pigeon": True}}, "preferences.notifications.pigeon"),
        ({"currency": "XYZ"}, "preferences.currency"),
        (["theme"], "preferences"),
    ]:
        result = await profile.gql(PREFS, {"p": bad}, as_=me)
        assert error_codes(result) == ["BAD_USER_INPUT"], bad
        assert result["errors"][0]["extensions"]["field"] == field
    literal = await profile.ok(
        'mutation { updatePreferences(preferences: {currency: "EUR"}) { preferences } }', as_=me
    )
    assert literal["updatePreferences"]["preferences"]["currency"] == "EUR"
    schema = (await profile.ok("{ preferencesSchema }"))["preferencesSchema"]
    assert schema["additionalProperties"] is False


async def test_user_profile_phone_and_address_owner_or_admin(profile: Subgraph) -> None:
    owner, other = profile.caller(Role.CUSTOMER), profile.caller(Role.VENDOR)
    await profile.ok(
        UPDATE, {"input": {"phone": "+919876543210", "address": "Home", "bio": "Hi"}}, as_=owner
    )
    mine = await profile.ok(ENTITIES, reps(owner.id), as_=owner)
    assert mine["_entities"][0]["profile"]["phone"] == "+919876543210"
    admin = await profile.ok(ENTITIES, reps(owner.id), as_=profile.caller(Role.ADMIN))
    assert admin["_entities"][0]["profile"]["address"] == "Home"

    seen = await profile.gql(ENTITIES, reps(owner.id), as_=other)
    assert error_codes(seen) == ["FORBIDDEN", "FORBIDDEN"]
    assert sorted(e["path"][-1] for e in seen["errors"]) == ["address", "phone"]
    assert seen["data"]["_entities"][0]["profile"] == {
        **EMPTY,
        "phone": None,
        "address": None,
        "bio": "Hi",
    }
    assert error_codes(await profile.gql(ENTITIES, reps(owner.id))) == ["UNAUTHENTICATED"]


async def test_user_profile_entities_batch_and_defaults(
    profile: Subgraph, profile_engine: AsyncEngine
) -> None:
    users = [uuid.uuid4() for _ in range(20)]
    async with profile_engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO profile.profiles (user_id, bio, avatar_key) VALUES (:id, 'bio', :key)"
            ),
            [{"id": u, "key": f"{u.hex}.webp"} for u in users[:10]],
        )
    admin = profile.caller(Role.ADMIN)
    counts = {}
    for n in (1, 20):
        with count_statements(profile.engine) as counter:
            data = await profile.ok(ENTITIES, reps(*users[:n]), as_=admin)
        counts[n] = counter.count
        assert len(data["_entities"]) == n
    assert counts[1] == counts[20] == 1
    stored, default = data["_entities"][0]["profile"], data["_entities"][15]["profile"]
    assert stored["avatarUrl"] == f"/avatars/{users[0].hex}.webp"
    assert stored["bio"] == "bio"
    assert default == EMPTY
    junk = await profile.ok(ENTITIES, reps("not-a-uuid"), as_=admin)
    assert junk["_entities"] == [{"id": "not-a-uuid", "profile": None}]


async def test_a_deleted_accounts_profile_is_null(
    profile: Subgraph, profile_engine: AsyncEngine
) -> None:
    """Auth resolves a deleted account to a placeholder without personal data; its profile
    (bio, avatar) is hidden too, in the same one statement per batch."""
    gone, kept = uuid.uuid4(), uuid.uuid4()
    async with profile_engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO auth.users (id, email, name, role, password_hash, deleted_at) "
                "VALUES (:id, :email, 'Gone', 'VENDOR', 'not-a-hash', now())"
            ),
            {"id": gone, "email": f"gone-{gone.hex}@example.com"},
        )
        await conn.execute(
            text("INSERT INTO profile.profiles (user_id, bio) VALUES (:id, 'private bio')"),
            [{"id": gone}, {"id": kept}],
        )
    admin = profile.caller(Role.ADMIN)
    with count_statements(profile.engine) as counter:
        data = await profile.ok(ENTITIES, reps(gone, kept), as_=admin)
    assert counter.count == 1
    hidden, shown = data["_entities"]
    assert hidden == {"id": str(gone), "profile": None}
    assert shown["profile"]["bio"] == "private bio"
    # A token of the account still in flight (not yet refused as revoked) reads no profile.
    late = await profile.gql(MY, as_=profile.caller(Role.VENDOR, user_id=gone))
    assert error_codes(late) == ["UNAUTHENTICATED"]


async def test_health(profile: Subgraph) -> None:
    assert (await profile.client.get("/healthz")).json()["service"] == "profile"
