"""Errors at the edge: every failure becomes one status and one body, decided here.

The API (and anything under /api/, and /metrics) answers `{"error": {"code", "message",
"field"}}`; pages answer an HTML page with the same status.
"""

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from flask import Flask, Response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from shared.core.db import timed_out
from shared.core.errors import (
    Conflict,
    CpbError,
    Forbidden,
    InvalidRequest,
    NotFound,
    OutOfReach,
)
from web.access import record_refusal
from web.api.bodies import Error, ErrorDetail
from web.api.routes import JSON

log = logging.getLogger(__name__)

PLAIN_ERROR_PAGE: Final = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Error {status}'
    " · Contact Preferences Batch</title></head><body><main><h1>Something went wrong on our "
    "side</h1><p>The error was logged. Try again in a moment.</p></main></body></html>"
)

STATUS_OF: Final[dict[type[CpbError], int]] = {
    InvalidRequest: 400,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
}


@dataclass(frozen=True)
class ErrorInfo:
    status: int
    code: str
    message: str
    field: str | None = None

    def body(self) -> Error:
        return Error(error=ErrorDetail(code=self.code, message=self.message, field=self.field))


def status_of(error: CpbError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return 500


def describe(error: Exception) -> ErrorInfo:
    if isinstance(error, InvalidRequest):
        return ErrorInfo(status_of(error), error.code, error.message, error.field)
    if isinstance(error, CpbError):
        return ErrorInfo(status_of(error), error.code, str(error))
    if isinstance(error, CSRFError):
        return ErrorInfo(400, "csrf_failed", error.description or "CSRF check failed")
    if isinstance(error, InternalServerError) and (cut := timed_out(error.original_exception)):
        return ErrorInfo(503, "busy", f"the database is busy ({cut} took too long): try again")
    if isinstance(error, HTTPException) and not isinstance(error, InternalServerError):
        return ErrorInfo(error.code or 500, _snake(type(error).__name__), error.description or "")
    return ErrorInfo(500, "internal", "internal error")


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/metrics"  # a program's


def error_response(error: Exception) -> tuple[Response | str, int, dict[str, str]]:
    info = describe(error)
    if info.status == 403:
        record_refusal(info.message)
    elif isinstance(error, OutOfReach):  # refused, and answered as not found
        record_refusal(error.reason)
    if info.status >= 500:
        log.error("status=%d path=%s error=%r", info.status, request.path, error)
    headers = _extra_headers(error)
    if wants_json():
        if info.status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="cpb"'
        return Response(info.body().to_json(), mimetype=JSON), info.status, headers
    return _error_page(info, specific=not isinstance(error, HTTPException)), info.status, headers


def _error_page(info: ErrorInfo, *, specific: bool) -> str:
    """The product's error page; `specific` when the message is the product's own (say, "no
    batch 42") rather than the web server's. A page that cannot be drawn (the database is
    down, say) falls back to plain HTML."""
    try:
        return render_template("error.html", error=info, specific=specific, now=datetime.now(UTC))
    except Exception:
        log.exception("status=%d path=%s error page failed", info.status, request.path)
        return PLAIN_ERROR_PAGE.format(status=info.status)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(CpbError, error_response)
    app.register_error_handler(HTTPException, error_response)


def _extra_headers(error: Exception) -> dict[str, str]:
    """Headers an HTTP error carries besides its HTML body, e.g. Allow on a 405."""
    if not isinstance(error, HTTPException):
        return {}
    if isinstance(error, InternalServerError) and timed_out(error.original_exception):
        return {"Retry-After": "30"}
    return {name: value for name, value in error.get_headers() if name.lower() != "content-type"}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
