"""Every error is JSON with a stable `code` and a `message` for people."""

from __future__ import annotations

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


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return error(exc.status, exc.code, str(exc))

    @app.exception_handler(NotFound)
    async def _nf(_: Request, exc: NotFound) -> JSONResponse:
        return error(404, "not_found", str(exc))

    @app.exception_handler(Forbidden)
    async def _fb(_: Request, exc: Forbidden) -> JSONResponse:
        return error(403, exc.code, str(exc))

    @app.exception_handler(AuthError)
    async def _auth(_: Request, exc: AuthError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        resp = error(exc.status, exc.code, str(exc))
        if headers:
            resp.headers.update(headers)
        return resp

    @app.exception_handler(ChatError)
    async def _chat(_: Request, exc: ChatError) -> JSONResponse:
        return error(exc.status, exc.code, str(exc), **exc.extra)

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
