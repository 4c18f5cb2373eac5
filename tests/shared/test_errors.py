"""The one error mapping: dependency outages are SERVICE_UNAVAILABLE, the rest stays masked."""

from __future__ import annotations

import asyncpg  # type: ignore[import-untyped]
import pytest
import redis.exceptions
import sqlalchemy.exc
from graphql import GraphQLError

from shared.errors import ServiceUnavailable, to_graphql_error
from shared.outages import is_dependency_failure


def mapped(exc: Exception) -> GraphQLError:
    return to_graphql_error(GraphQLError("boom", original_error=exc))


def wrapped(orig: Exception, *, invalidated: bool = False) -> sqlalchemy.exc.DBAPIError:
    return sqlalchemy.exc.DBAPIError("SELECT 1", None, orig, connection_invalidated=invalidated)


@pytest.mark.parametrize(
    "exc",
    [
        TimeoutError(),
        ConnectionRefusedError(),
        sqlalchemy.exc.TimeoutError("QueuePool limit reached"),
        redis.exceptions.ConnectionError("Connection refused"),
        redis.exceptions.TimeoutError("Timeout reading from socket"),
        wrapped(asyncpg.exceptions.QueryCanceledError("canceling statement due to timeout")),
        wrapped(asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed")),
        wrapped(ValueError("whatever"), invalidated=True),
    ],
)
def test_dependency_failures_are_service_unavailable(exc: Exception) -> None:
    assert is_dependency_failure(exc)
    error = mapped(exc)
    assert error.extensions == {"code": "SERVICE_UNAVAILABLE", "retryAfter": 5}
    assert error.message == ServiceUnavailable.default_message


def test_a_failure_raised_from_an_outage_counts_too() -> None:
    exc = RuntimeError("rate limiter failed")
    exc.__cause__ = redis.exceptions.TimeoutError("slow")
    assert is_dependency_failure(exc)


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("bug"),
        KeyError("bug"),
        wrapped(asyncpg.exceptions.UniqueViolationError("duplicate key")),
    ],
)
def test_other_errors_stay_masked(exc: Exception) -> None:
    assert not is_dependency_failure(exc)
    assert mapped(exc).extensions == {"code": "INTERNAL_SERVER_ERROR"}
