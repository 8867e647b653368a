"""Errors at the edge: every failure becomes one status and one body, decided here.

The API (and anything under /api/) answers `{"error": {"code", "message", "field"}}`; pages
answer an HTML page with the same status.
"""

import logging
import re
from dataclasses import dataclass
from typing import Final

from flask import Flask, Response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from shared.core.errors import Conflict, CpbError, Forbidden, InvalidRequest, NotFound
from web.access import record_refusal
from web.api.bodies import Error, ErrorDetail
from web.api.routes import JSON

log = logging.getLogger(__name__)

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
    if isinstance(error, HTTPException) and not isinstance(error, InternalServerError):
        return ErrorInfo(error.code or 500, _snake(type(error).__name__), error.description or "")
    return ErrorInfo(500, "internal", "internal error")


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(error: Exception) -> tuple[Response | str, int, dict[str, str]]:
    info = describe(error)
    if info.status == 403:
        record_refusal(info.message)
    if info.status >= 500:
        log.error("status=%d path=%s error=%r", info.status, request.path, error)
    headers = _extra_headers(error)
    if wants_json():
        if info.status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="cpb"'
        return Response(info.body().to_json(), mimetype=JSON), info.status, headers
    return render_template("error.html", error=info), info.status, headers


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(CpbError, error_response)
    app.register_error_handler(HTTPException, error_response)


def _extra_headers(error: Exception) -> dict[str, str]:
    """Headers an HTTP error carries besides its HTML body, e.g. Allow on a 405."""
    if not isinstance(error, HTTPException):
        return {}
    return {name: value for name, value in error.get_headers() if name.lower() != "content-type"}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
