"""Subgraph responses are encoded with orjson, and what orjson refuses still goes out."""

from __future__ import annotations

import json

import strawberry

from shared.app import SubgraphGraphQL


@strawberry.type
class Query:
    ok: bool = True


def router() -> SubgraphGraphQL:
    return SubgraphGraphQL(strawberry.Schema(query=Query))


def test_response_is_compact_json_text() -> None:
    data = {"data": {"payments": {"edges": [{"node": {"id": "1", "description": "café ₹"}}]}}}
    encoded = router().encode_json(data)
    # Text, not bytes: WebSocket messages are encoded here too and must be text frames (the
    # router's graphql-ws client cannot read a binary one).
    assert isinstance(encoded, str)
    assert json.loads(encoded) == data
    assert " " not in encoded.replace("café ₹", "")


def test_integer_beyond_64_bits_falls_back_to_the_standard_encoder() -> None:
    data = {"data": {"preferences": {"big": 2**70}}}
    encoded = router().encode_json(data)
    assert isinstance(encoded, str)
    assert json.loads(encoded) == data
