"""Razorpay's error bodies, and the handlers that make every failure look like Razorpay's.

Shape (what the SDK parses: it picks its exception class from `error.code`):
`{"error": {"code", "description", "source", "step", "reason", "metadata", "field"?}}`;
`field` is present only when one input field is at fault.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

BAD_REQUEST_ERROR = "BAD_REQUEST_ERROR"
SERVER_ERROR = "SERVER_ERROR"

# Descriptions as Razorpay's API returns them.
ID_DOES_NOT_EXIST = "The id provided does not exist"
URL_NOT_FOUND = "The requested URL was not found on the server."
NO_API_KEY = "Please provide your api key for authentication purposes."
AUTHENTICATION_FAILED = "Authentication failed"
SERVER_ERROR_DESCRIPTION = (
    "We are facing some trouble completing your request at the moment. Please try again shortly."
)
GATEWAY_502_HTML = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
)


class RazorpayError(Exception):
    """An API failure rendered as Razorpay's error JSON."""

    def __init__(
        self,
        description: str,
        *,
        status: int = 400,
        code: str = BAD_REQUEST_ERROR,
        field: str | None = None,
        source: str = "NA",
        step: str = "NA",
        reason: str = "NA",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(description)
        self.description = description
        self.status = status
        self.code = code
        self.field = field
        self.source = source
        self.step = step
        self.reason = reason
        self.metadata = metadata or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "code": self.code,
            "description": self.description,
            "source": self.source,
            "step": self.step,
            "reason": self.reason,
            "metadata": self.metadata,
        }
        if self.field is not None:
            error["field"] = self.field
        return {"error": error}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status)


def invalid_input(description: str, field: str | None = None) -> RazorpayError:
    """A validation failure (Razorpay tags these business / payment_initiation)."""
    return RazorpayError(
        description,
        field=field,
        source="business",
        step="payment_initiation",
        reason="input_validation_failed",
    )


def not_found() -> RazorpayError:
    return invalid_input(ID_DOES_NOT_EXIST)


def invalid_id(value: str) -> RazorpayError:
    return invalid_input(f"{value} is not a valid id")


def bad_request(description: str) -> RazorpayError:
    """A request refused because of the state of what it names (no input field at fault)."""
    return RazorpayError(description)


def unauthorized(description: str) -> RazorpayError:
    return RazorpayError(description, status=401)


def server_error() -> RazorpayError:
    return RazorpayError(SERVER_ERROR_DESCRIPTION, status=500, code=SERVER_ERROR)


class InjectedFault(Exception):
    """Raised by the fault gate to answer like an outage instead of serving the request."""

    def __init__(self, mode: str) -> None:
        super().__init__(mode)
        self.mode = mode


def fault_response(mode: str) -> Response:
    if mode == "non_json":
        return HTMLResponse(GATEWAY_502_HTML, status_code=502)
    return server_error().response()


def install_error_handlers(app: FastAPI) -> None:
    async def on_razorpay_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RazorpayError)
        return exc.response()

    async def on_fault(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, InjectedFault)
        return fault_response(exc.mode)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code in (404, 405):
            # Razorpay answers an unknown path or method with a 400, not a 404.
            return invalid_input(URL_NOT_FOUND).response()
        return RazorpayError(str(exc.detail), status=exc.status_code).response()

    async def on_validation_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {}
        location = [str(part) for part in first.get("loc", ()) if part != "body"]
        field = ".".join(location) or None
        message = str(first.get("msg", "Invalid request"))
        description = f"{field}: {message}" if field else message
        return invalid_input(description, field).response()

    async def on_unexpected(_: Request, __: Exception) -> Response:
        return server_error().response()

    app.add_exception_handler(RazorpayError, on_razorpay_error)
    app.add_exception_handler(InjectedFault, on_fault)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(Exception, on_unexpected)
