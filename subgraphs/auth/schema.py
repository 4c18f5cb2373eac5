"""Assembles the auth subgraph's schema (federation 2.7)."""

from __future__ import annotations

from shared.schema import SubgraphSchema, build_schema
from subgraphs.auth.mutations import Mutation
from subgraphs.auth.policies import POLICIES
from subgraphs.auth.queries import Query
from subgraphs.auth.types import User


def create_schema(router_secret: str | None) -> SubgraphSchema:
    return build_schema(
        query=Query,
        mutation=Mutation,
        types=(User,),
        policies=POLICIES,
        router_secret=router_secret,
    )
