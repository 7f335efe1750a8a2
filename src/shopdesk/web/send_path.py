"""The chat's busiest request, answered before the framework's per-request machinery (speed).

`POST /api/v1/conversations/{id}/messages` is most of a chat server's traffic, and FastAPI's
route matching, dependency solving and the session, exception and body-limit middlewares
cost more CPU than storing and screening the message. `SendFastPath` answers that request
when it carries a bearer token: it reads the body within the same limit, validates it with
the route's own model, and ends in the route's own `sending.send`; refusals are
rendered by `errors.render`, the table the app's exception handlers use.

Everything else goes through the full app unchanged: other requests, a send with a cookie
session (it needs the session middleware and the CSRF check), a body that is not JSON or
that the model refuses (so the validation errors are FastAPI's, as on every other route).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shopdesk.web import errors
from shopdesk.web.api import sending
from shopdesk.web.limits import too_large

_PATH = re.compile(r"/api/v1/conversations/([0-9]{1,18})/messages")


def _takes(scope: Scope) -> int | None:
    """The conversation id of a send this path answers, else None."""
    if scope["type"] != "http" or scope["method"] != "POST":
        return None
    match = _PATH.fullmatch(scope["path"])
    if match is None:
        return None
    bearer = json_body = False
    for name, value in scope["headers"]:
        if name == b"authorization":
            bearer = True
        elif name == b"content-type":
            json_body = value.split(b";", 1)[0].strip().lower() == b"application/json"
    return int(match[1]) if bearer and json_body else None


async def _read(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None when it is longer than `limit`."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)  # disconnected: the send fails on an empty body
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the already read body again, for the full app."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return again


RAW_SEND = "shopdesk.raw_send"  # scope key: the server's own send of a WebSocket connection


class SendFastPath:
    """Wraps the app's whole middleware stack (`web.app.ShopdeskApp`), FastAPI's own error,
    telemetry and body-limit middlewares included, so that the chat's busiest traffic pays
    none of them: sends with a bearer token, and the pushes on every WebSocket, which get
    the server's `send` itself (`RAW_SEND`) instead of a chain of middleware wrappers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            scope[RAW_SEND] = send
            await self.app(scope, receive, send)
            return
        conversation_id = _takes(scope)
        if conversation_id is None:
            await self.app(scope, receive, send)
            return
        limit: int = scope["app"].state.settings.max_body_bytes
        body = await _read(receive, limit)
        if body is None:
            await too_large(send, limit)
            return
        try:
            draft = sending.MessageIn.model_validate_json(body)
        except ValidationError:
            await self.app(scope, _replay(body, receive), send)
            return
        request = Request(scope, receive)
        response: Any
        try:
            response = await sending.send(request, conversation_id, draft)
        except Exception as exc:
            response = errors.render(exc)
            if response is None:  # a server error: answered as the app's error middleware does
                await PlainTextResponse("Internal Server Error", status_code=500)(
                    scope, receive, send
                )
                raise
        await response(scope, receive, send)
