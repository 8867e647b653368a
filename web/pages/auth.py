"""Sign in and sign out (the login session of the pages; the API also accepts it). How long a
session lasts is web/security.py's."""

import re
from datetime import timedelta
from typing import Final
from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from shared.access.audit import record_audit
from shared.access.login_sessions import open_login_session
from shared.access.signin import ACTION_LOGOUT, sign_in
from web.auth import Principal, require_principal
from web.security import begin_session, end_session
from web.services import services

# One `/`, then printable ASCII without a backslash.
SAME_SITE_PATH: Final = re.compile(r"/(?!/)[\x21-\x5b\x5d-\x7e]*")
THROTTLED = (
    "Too many failed sign-ins for this user or from this address. "
    "Try again in a quarter of an hour."
)


bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    next_url = _safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("batches.history"))
    if request.method == "GET":
        return render_template("login.html", next_url=next_url, username="")

    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    settings = services().settings
    forget_before = services().now() - timedelta(hours=settings.session_max_hours)
    with services().session_factory.begin() as session:
        attempt = sign_in(session, username, password, remote_addr=request.remote_addr)
        if attempt.user is not None:
            principal = Principal.of(attempt.user)
            key = open_login_session(session, attempt.user, forget_before=forget_before)
    if attempt.user is not None:
        begin_session(principal, key)
        return redirect(next_url or url_for("batches.home"))
    error = THROTTLED if attempt.throttled else "Wrong username or password."
    page = render_template("login.html", next_url=next_url, username=username, error=error)
    return page, 429 if attempt.throttled else 401


@bp.post("/logout")
def logout() -> Response:
    username = require_principal().username
    with services().session_factory.begin() as session:
        record_audit(
            session,
            username=username,
            action=ACTION_LOGOUT,
            subject=username,
            remote_addr=request.remote_addr,
        )
    end_session()
    return redirect(url_for("auth.login"))


def _safe_next(target: str | None) -> str | None:
    """Only a plain path of this site, so the sign-in page cannot send anyone elsewhere: printable
    ASCII only (browsers strip tabs and line breaks from a URL, trim controls and spaces, and
    accept look-alikes of `/`), starting with one `/` and no backslash anywhere (browsers read
    it as `/`). Anything else is dropped, not repaired."""
    if not target or not SAME_SITE_PATH.fullmatch(target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None
