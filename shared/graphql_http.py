"""The lean HTTP path of a subgraph's `/graphql`: the one request shape the router sends for every
query and mutation, served without Strawberry's generic HTTP view.

The shape: `POST`, a `content-type` of exactly `application/json` (or with `; charset=utf-8`),
a body that decodes (`input_guard.decode_json`, as the view decodes it) to one JSON object whose
`query` is a string, `variables` and `extensions` objects or null, `operationName` a string or
null. For it, `serve_json_post` does what Strawberry's `AsyncBaseHTTPView.run` does, in the same
order, with the same calls: the context first (`get_context`, so authentication runs before
the body is read, as in the view), then the body, then `schema.execute` with the view's
arguments (root value None, the operation types allowed over POST, the operation extensions),
its three refusals turned into the same HTTP 400s, `process_result`, and a 200
`application/json` response with the view's encoding (`json_bytes`). It skips what the view
spends on the general case: the request adapter, a sub-response, the `email`-module parse of
the content type, the stream-transport and IDE checks, `GraphQLRequestData`.

Anything else takes the view unchanged: GET (queries, the IDE), multipart uploads, batches,
any other content type, a body that is not one JSON object or whose fields have other types
(the view answers those with its own 400s, or fails as it fails). When the body has already
been read, the view is called with the context already built (`run(request, context=...)`)
and a request that replays the body (`replaying`): the context is built once, as before. The lean
path is off (`lean_json_post_ready` is False) when the view is configured in a way it does not
reproduce: an HTTP stream transport (SSE, multipart subscriptions: the `accept` header would
matter), incremental execution (`@defer`/`@stream`), or an override of a hook it skips.

Where it sits: inside the app's middleware chain, in `SubgraphGraphQL.__call__`; only the view
is bypassed. ServerErrorMiddleware (the 500 without a stack or an exception name), FastAPI's
telemetry and body-limit middlewares (the latter sets no limit on `/graphql`: the router bounds
request bodies), `RequestIdMiddleware` (request id, metrics, access log),
the OpenTelemetry instrumentation when tracing is on, and the route matching all see the
request as before. Measured under callgrind on a signed query that does no I/O (instructions
per request, in-process): Strawberry's view 1.147M for the whole app, this path 0.942M (the
view's own work, about 0.2M, is gone; on the payments list query 4.34M -> 4.17M). The chain
above the route is 0.11M of that; a dispatcher in front of it (for this shape only, when not
tracing, applying ServerErrorMiddleware and `RequestIdMiddleware` by hand) measured 0.05M
less: about 1% of the list query, for a second copy of the wiring the contract
fixes (the body limit, the error page, the request id and metrics, the tracing switch) that
every later change to the app's middleware would have to keep in step. Not taken.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import orjson
from cross_web import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import process_result
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

if TYPE_CHECKING:
    from shared.app import SubgraphGraphQL

JSON_CONTENT_TYPES = frozenset(
    {
        b"application/json",
        b"application/json; charset=utf-8",
        b"application/json; charset=UTF-8",
        b"application/json;charset=utf-8",
        b"application/json;charset=UTF-8",
    }
)
"""The `content-type` values the lean path takes, byte for byte (the view reads each of them as
`application/json`); any other value, even an equivalent one, goes to the view."""

POST_OPERATION_TYPES = frozenset(OperationType.from_http("POST"))
"""What the view allows over POST (queries, mutations, subscriptions: a subscription is then
refused by `schema.execute` itself, as in the view)."""

_REPRODUCED_HOOKS = (
    "get_root_value",
    "get_sub_response",
    "process_result",
    "create_response",
    "execute_operation",
    "execute_single",
    "parse_http_body",
    "parse_json",
    "is_request_allowed",
    "should_render_graphql_ide",
    "_handle_errors",
)
"""The view's hooks the lean path does not call, because it does what Strawberry's own versions
do: overriding one of them in `SubgraphGraphQL` turns the lean path off."""


_OWN_HOOKS = ("get_context", "encode_json")
"""`SubgraphGraphQL`'s own hooks the lean path stands in for (`request_context`, `json_bytes`):
overriding one in a subclass turns the lean path off too."""


def json_bytes(data: object) -> bytes:
    """A response as JSON, as `SubgraphGraphQL.encode_json` encodes it: orjson, and what orjson
    cannot encode (an integer beyond 64 bits in a JSON scalar) the standard way."""
    try:
        return orjson.dumps(data)
    except TypeError:
        return json.dumps(data, separators=(",", ":")).encode()


def lean_json_post_ready(view: SubgraphGraphQL) -> bool:
    """Whether the lean path reproduces this view exactly (see the module docstring)."""
    from shared.app import SubgraphGraphQL  # here: shared.app imports this module

    view_class = type(view)
    if any(getattr(view_class, name) is not getattr(GraphQL, name) for name in _REPRODUCED_HOOKS):
        return False
    if any(getattr(view_class, name) is not getattr(SubgraphGraphQL, name) for name in _OWN_HOOKS):
        return False
    return (
        not view._stream_transport_map
        and not view.schema.config.enable_experimental_incremental_execution
    )


def is_json_post(scope: Scope) -> bool:
    """A POST whose first `content-type` header is one of `JSON_CONTENT_TYPES` (Starlette's
    `Headers.get`, which the view reads, also takes the first)."""
    if scope["method"] != "POST":
        return False
    for name, value in scope["headers"]:
        if name == b"content-type":
            return value in JSON_CONTENT_TYPES
    return False


async def read_body(receive: Receive) -> bytes:
    """The request body, read as Starlette's `Request.body` reads it (without its generator):
    `ClientDisconnect` when the client goes before the body is complete."""
    message = await receive()
    if message["type"] == "http.request" and not message.get("more_body", False):
        body: bytes = message.get("body", b"")  # the common case: one message
        return body
    chunks: list[bytes] = []
    while True:
        if message["type"] == "http.request":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return b"".join(chunks)
        elif message["type"] == "http.disconnect":
            raise ClientDisconnect()
        message = await receive()


def replaying(request: Request, body: bytes) -> Request:
    """A request for Strawberry's view whose body is `body`, already read from `request`."""
    receive = request.receive
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(request.scope, replay)


async def serve_json_post(view: SubgraphGraphQL, request: Request) -> Response:
    """The answer to a POST with a JSON content type: the lean path when the body has the
    router's shape, else Strawberry's view with the context already built. Raises what the view
    raises (`HTTPException` for its 400s; anything unexpected, for ServerErrorMiddleware)."""
    context = await view.request_context(request)  # what the view's `get_context` gives
    body = await read_body(request.receive)
    try:
        data = view.decode_json(body)
    except Exception:  # the view decodes it again and answers as it answers
        return await view.run(replaying(request, body), context=context)
    if type(data) is not dict:
        return await view.run(replaying(request, body), context=context)
    query = data.get("query")
    variables = data.get("variables")
    operation_name = data.get("operationName")
    extensions = data.get("extensions")
    if (
        type(query) is not str
        or (variables is not None and type(variables) is not dict)
        or (operation_name is not None and type(operation_name) is not str)
        or (extensions is not None and type(extensions) is not dict)
    ):
        return await view.run(replaying(request, body), context=context)
    try:
        result = await view.schema.execute(
            query,
            root_value=None,
            variable_values=variables,
            context_value=context,
            operation_name=operation_name,
            allowed_operation_types=POST_OPERATION_TYPES,
            operation_extensions=extensions,
        )
    except CannotGetOperationTypeError as error:
        raise HTTPException(400, error.as_http_error_reason()) from error
    except InvalidOperationTypeError as error:
        raise HTTPException(400, error.as_http_error_reason("POST")) from error
    except MissingQueryError as error:
        raise HTTPException(400, "No GraphQL query found in the request") from error
    return Response(json_bytes(process_result(result)), media_type="application/json")
