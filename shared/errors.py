"""The error model: domain exceptions carry the contract's code; one function maps them.

Services raise these. `map_errors_in_place` (wired into the schema's `process_errors`) turns
them into GraphQL errors with `extensions.code`; anything unexpected is logged (type and place, no
stack, no values) and masked as INTERNAL_SERVER_ERROR, except a dependency outage (see
`shared.outages`), which is SERVICE_UNAVAILABLE with `retryAfter`.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from graphql import GraphQLError

from shared.outages import is_dependency_failure

log = logging.getLogger("bff.errors")


class DomainError(Exception):
    code: ClassVar[str] = "INTERNAL_SERVER_ERROR"
    default_message: ClassVar[str] = "Internal server error"

    def __init__(self, message: str | None = None, **extensions: Any) -> None:
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.extensions = {k: v for k, v in extensions.items() if v is not None}


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"
    default_message = "Authentication required"


class Forbidden(DomainError):
    code = "FORBIDDEN"
    default_message = "Not allowed"


class BadUserInput(DomainError):
    code = "BAD_USER_INPUT"
    default_message = "Invalid input"

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        super().__init__(message, field=field)


class NotFound(DomainError):
    code = "NOT_FOUND"
    default_message = "Not found"


class Conflict(DomainError):
    code = "CONFLICT"
    default_message = "Conflict"


class RateLimited(DomainError):
    code = "RATE_LIMITED"
    default_message = "Too many attempts, try again later"

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(message, retryAfter=max(1, int(retry_after)))
        self.retry_after = max(1, int(retry_after))


class MfaRequired(DomainError):
    """The password was right; the account needs its second factor (`loginWithTotp`)."""

    code = "MFA_REQUIRED"
    default_message = "A second factor is required: call loginWithTotp with the mfaToken"

    def __init__(self, mfa_token: str) -> None:
        super().__init__(None, mfaToken=mfa_token)


class PaymentProviderError(DomainError):
    code = "PAYMENT_PROVIDER_ERROR"
    default_message = "The payment provider could not process the request"


class ServiceUnavailable(DomainError):
    """A dependency (PostgreSQL, Redis) is down or too slow; safe to retry."""

    code = "SERVICE_UNAVAILABLE"
    default_message = "The service is temporarily unavailable, try again shortly"
    RETRY_AFTER_SECONDS: ClassVar[int] = 5

    def __init__(self, retry_after: int | None = None, message: str | None = None) -> None:
        super().__init__(message, retryAfter=max(1, retry_after or self.RETRY_AFTER_SECONDS))


INTERNAL_MESSAGE = "Internal server error"


def to_graphql_error(error: GraphQLError) -> GraphQLError:
    """The client-facing form of one error: a contract code, never internals."""
    original = error.original_error
    if isinstance(original, DomainError):
        return GraphQLError(
            original.message,
            nodes=error.nodes,
            path=error.path,
            extensions={"code": original.code, **original.extensions},
        )
    if original is None:
        # Parse and validation errors from graphql-core, or errors already carrying a code.
        code = (error.extensions or {}).get("code") or "BAD_USER_INPUT"
        return GraphQLError(
            error.message,
            nodes=error.nodes,
            path=error.path,
            extensions={**(error.extensions or {}), "code": code},
        )
    if isinstance(original, GraphQLError):
        return to_graphql_error(original)
    if is_dependency_failure(original):
        log.warning("dependency unavailable", extra={"error_type": type(original).__name__})
        unavailable = ServiceUnavailable()
        extensions = {"code": unavailable.code, **unavailable.extensions}
        return GraphQLError(
            unavailable.message, nodes=error.nodes, path=error.path, extensions=extensions
        )
    log_unexpected(original, path=error.path)
    return GraphQLError(
        INTERNAL_MESSAGE,
        nodes=error.nodes,
        path=error.path,
        extensions={"code": "INTERNAL_SERVER_ERROR"},
    )


def log_unexpected(exc: BaseException, *, path: Any = None) -> None:
    """Log an unexpected error without its stack or message (which may hold SQL or values)."""
    tb = exc.__traceback__
    where = ""
    while tb is not None:
        where = f"{tb.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno}"
        tb = tb.tb_next
    log.error(
        "unexpected error",
        extra={"error_type": type(exc).__name__, "where": where, "gql_path": path},
    )


def map_errors_in_place(errors: list[GraphQLError]) -> None:
    """Rewrite an operation's errors into their client-facing form.

    Called from `Schema.process_errors`, which Strawberry runs on every path (pre-execution,
    execution, subscription events) with the very list the response is built from.
    """
    errors[:] = [to_graphql_error(e) for e in errors]
