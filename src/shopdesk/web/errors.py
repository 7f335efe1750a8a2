"""Every error is JSON with a stable `code` and a `message` for people."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shopdesk.chat.service import ChatError
from shopdesk.store.access import Forbidden, NotFound
from shopdesk.store.accounts import AccountError
from shopdesk.web.deps import AuthError


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def error(status: int, code: str, message: str, **extra: object) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, **extra}, status_code=status)


def _auth(exc: AuthError) -> JSONResponse:
    resp = error(exc.status, exc.code, str(exc))
    if exc.status == 401:
        resp.headers["WWW-Authenticate"] = "Bearer"
    return resp


# The refusals a request handler raises, and their JSON (the send fast path,
# `shopdesk.web.send_path`, renders them outside FastAPI with this same table).
_REFUSALS: dict[type[Exception], Callable[[Any], JSONResponse]] = {
    ApiError: lambda exc: error(exc.status, exc.code, str(exc)),
    NotFound: lambda exc: error(404, "not_found", str(exc)),
    Forbidden: lambda exc: error(403, exc.code, str(exc)),
    AuthError: _auth,
    ChatError: lambda exc: error(exc.status, exc.code, str(exc), **exc.extra),
}


def render(exc: Exception) -> JSONResponse | None:
    """The JSON answer to a refusal, or None for any other exception (a server error)."""
    for cls in type(exc).__mro__:
        renderer = _REFUSALS.get(cls)
        if renderer is not None:
            return renderer(exc)
    return None


def install(app: FastAPI) -> None:
    async def _refusal(_: Request, exc: Exception) -> JSONResponse:
        response = render(exc)
        assert response is not None  # registered for the refusal types only
        return response

    for cls in _REFUSALS:
        app.add_exception_handler(cls, _refusal)

    @app.exception_handler(AccountError)
    async def _acct(_: Request, exc: AccountError) -> JSONResponse:
        return error(422, "invalid_account", str(exc))

    @app.exception_handler(RequestValidationError)
    async def _val(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            f"{'.'.join(str(p) for p in e['loc'] if p != 'body')}: {e['msg']}"
            for e in exc.errors()
        ]
        return error(422, "invalid_request", "; ".join(problems) or "invalid request",
                     errors=[{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()])

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
        return error(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail))
