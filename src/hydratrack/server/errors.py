"""The one place that makes error answers: ``{"error": {"code", "message", "details"?}}``.

Routes and the store raise :class:`ApiProblem` (or one of its named subclasses); the
handlers installed by :func:`install_error_handlers` turn it, FastAPI's validation
errors, Starlette's HTTP errors and anything unexpected into that shape.
"""

from __future__ import annotations

import errno
import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("hydratrack.server")

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    422: "validation_error",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}
# a full disk, a read-only file system or database: the storage, not the request, failed
_STORAGE_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EDQUOT}
_STORAGE_SQLSTATES = {"53100", "53200", "25006"}  # disk full, out of memory, read-only
_STORAGE_WORDS = ("database or disk is full", "readonly database", "no space left on device")


class ApiProblem(Exception):
    """An answer other than success; carries status, code, message and details."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


class BadRequest(ApiProblem):
    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(400, "bad_request", message, details)


class Unauthorized(ApiProblem):
    def __init__(self, message: str = "missing or wrong credentials") -> None:
        super().__init__(401, "unauthorized", message)


class Forbidden(ApiProblem):
    def __init__(self, message: str) -> None:
        super().__init__(403, "forbidden", message)


class NotFound(ApiProblem):
    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(404, "not_found", f"{kind} {ident} not found")


class Conflict(ApiProblem):
    def __init__(self, message: str) -> None:
        super().__init__(409, "conflict", message)


class InvalidState(ApiProblem):
    def __init__(self, task_id: str, current: str, action: str, needs: str) -> None:
        super().__init__(
            409, "invalid_state", f"task {task_id} is {current}; {action} needs {needs}"
        )


class InvalidEdit(ApiProblem):
    def __init__(self, details: list[dict[str, str]]) -> None:
        first = details[0] if details else {"section": "", "name": "", "message": ""}
        more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
        msg = f"edit cannot apply: {first['section']}/{first['name']}: {first['message']}{more}"
        super().__init__(422, "invalid_edit", msg, details)


class TooManyRequests(ApiProblem):
    """429 with ``Retry-After``: too many failed credentials (server/throttle.py)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            429,
            "too_many_requests",
            f"too many failed sign-in attempts; try again in {retry_after} s",
            {"retry_after": retry_after},
        )
        self.retry_after = retry_after


class PayloadTooLarge(ApiProblem):
    def __init__(self, limit: int) -> None:
        super().__init__(413, "payload_too_large", f"request body is larger than {limit} bytes")


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        err["details"] = details
    return {"error": err}


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in loc)


def _validation_details(exc: RequestValidationError) -> list[dict[str, str]]:
    return [
        {"field": _field(e.get("loc", ())), "message": str(e.get("msg", "invalid"))}
        for e in exc.errors()
    ]


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiProblem)
    headers = None
    # No Basic challenge for a browser's fetch (it would pop up a password dialog over the UI).
    if exc.status == 401 and request.headers.get("sec-fetch-mode", "navigate") == "navigate":
        headers = {"WWW-Authenticate": 'Basic realm="hydratrack"'}
    if isinstance(exc, TooManyRequests):
        headers = {"Retry-After": str(exc.retry_after)}
    return error_response(exc.status, exc.code, exc.message, exc.details, headers)


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        detail = next(e for e in errors if e.get("type") == "json_invalid")
        ctx = detail.get("ctx") or {}
        return error_response(
            400, "bad_request", f"malformed JSON body: {ctx.get('error', 'invalid')}"
        )
    details = _validation_details(exc)
    first = details[0] if details else {"field": "", "message": "invalid"}
    more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
    msg = f"{first['field']}: {first['message']}{more}"
    bad_query = all(d["field"].startswith(("query", "path")) for d in details) and details
    if bad_query:
        return error_response(400, "bad_request", f"bad query value: {msg}", details)
    return error_response(422, "validation_error", msg, details)


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
    if exc.status_code == 404 and message == "Not Found":
        message = f"no such endpoint: {request.method} {request.url.path}"
    if exc.status_code == 405:
        message = f"method {request.method} not allowed on {request.url.path}"
    return error_response(exc.status_code, code, message, headers=getattr(exc, "headers", None))


def storage_problem(exc: BaseException) -> str | None:
    """What failed when ``exc`` is the storage under the server refusing a write (disk
    full, read-only file system or database), else None."""
    if isinstance(exc, OSError) and exc.errno in _STORAGE_ERRNOS:
        return f"{exc.strerror or exc}"
    orig = getattr(exc, "orig", None)  # a SQLAlchemy error wraps the driver's
    if orig is None:
        return None
    text = str(orig).strip()
    if getattr(orig, "sqlstate", None) in _STORAGE_SQLSTATES or any(
        w in text.lower() for w in _STORAGE_WORDS
    ):
        return text.splitlines()[0] if text else type(orig).__name__
    return None


class CatchUnexpected:
    """ASGI middleware: an unexpected exception is answered here (500 in the error shape,
    logged; 503 ``unavailable`` when the storage refused a write) and goes no further. (Starlette's handler for ``Exception`` answers and then
    re-raises it, so the server closes the client's kept-alive connection.)"""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:  # too late for an answer: the server ends the connection
                raise
            storage = storage_problem(exc)
            if storage is not None:  # 503: a client may retry later (the SDK spools)
                log.error("storage refused a write in %s: %s", scope.get("path"), storage)
                answer = error_response(503, "unavailable", f"storage not writable: {storage}")
            else:
                log.exception("unexpected error in %s %s", scope.get("method"), scope.get("path"))
                answer = error_response(
                    500, "internal_error", f"internal error: {type(exc).__name__}"
                )
            await answer(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """The handlers of the known errors; unexpected ones go to :class:`CatchUnexpected`."""
    app.add_exception_handler(ApiProblem, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
