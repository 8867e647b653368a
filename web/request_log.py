"""Every request has an id, on each line logged while it is served (`requestId`) and in the
answer's X-Request-ID header: the client's X-Request-ID when it is sensible (1 to 64 printable
ASCII characters, no space), else a new one. Once web/access.py knows who is asking, their
username is on those lines too (`user`).

Both are also left in the WSGI environ, for gunicorn's access log line, which is written after
the request is over (web/gunicorn_logging.py).
"""

import re
import uuid
from typing import Final

from flask import Flask, Response, g, request

from shared.core.logs import bind, unbind

HEADER: Final = "X-Request-ID"
ENVIRON_REQUEST_ID: Final = "cpb.request_id"
ENVIRON_USER: Final = "cpb.user"
SENSIBLE: Final = re.compile(r"[!-~]{1,64}")  # printable ASCII, no space


def register_request_log(app: Flask) -> None:
    """Registered before the other hooks, so that their lines carry the request's id."""
    app.before_request(begin_request)
    app.after_request(echo_request_id)
    app.teardown_request(end_request)


def request_id_of(header: str | None) -> str:
    """The client's id when it is sensible, else a new one (32 hex digits)."""
    if header is not None and SENSIBLE.fullmatch(header):
        return header
    return uuid.uuid4().hex


def begin_request() -> None:
    request_id = request_id_of(request.headers.get(HEADER))
    g.request_id = request_id
    request.environ[ENVIRON_REQUEST_ID] = request_id
    g.log_token = bind(requestId=request_id)


def bind_user(username: str) -> None:
    """The caller's username on the request's lines from now on (unbound with the request)."""
    if "log_token" in g:
        bind(user=username)
        request.environ[ENVIRON_USER] = username


def echo_request_id(response: Response) -> Response:
    if "request_id" in g:
        response.headers[HEADER] = g.request_id
    return response


def end_request(_: BaseException | None) -> None:
    token = g.pop("log_token", None)
    if token is not None:
        unbind(token)  # the user bound since goes too
