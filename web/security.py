"""The web's hardening (OWASP ASVS level 2): security headers on every response, and the limits
of a login session.

Headers: a strict Content-Security-Policy (scripts and styles only from our own files, so the
templates carry no inline script, event attribute or style attribute), no sniffing, no framing,
and no caching of anything but the static files. Own code rather than Flask-Talisman: Talisman
sends HSTS only on requests it sees as HTTPS (not behind a TLS proxy), and has no
Cross-Origin-Opener-Policy or Cache-Control.

Sessions: a login session is permanent with PERMANENT_SESSION_LIFETIME set to the idle limit and
refreshed by each request, so the browser drops the cookie, and Flask refuses its signature,
after that long without a request. The absolute limit is the sign-in time stamped in the session
and checked on each request. The session is also the server's (shared/access/login_sessions.py):
the cookie carries its key, and a session that was ended (signed out, or the password changed)
is refused even to a copy of the cookie. Signing in starts a new cookie session, so the CSRF
token changes.
"""

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Final

from flask import Flask, flash, redirect, request, session
from flask_login import UserMixin, current_user, login_url, login_user, logout_user
from werkzeug.exceptions import Unauthorized
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from shared.access.login_sessions import end_login_session
from shared.core.settings import Settings
from web.services import services

CONTENT_SECURITY_POLICY: Final = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
NO_STORE: Final = "no-store"
HSTS: Final = "max-age=31536000"

SIGNED_IN_AT: Final = "signed_in_at"  # session key: when the user signed in, in Unix seconds
LOGIN_SESSION: Final = "login_session"  # session key: the key of the server's login session
ENDED: Final = "Your session has ended. Please sign in again."
CHANGED_CLIENT: Final = (
    "You were signed out because your network address or browser changed. Please sign in again."
)


def register_security(app: Flask, settings: Settings) -> None:
    app.config.update(
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.session_idle_minutes),
        SESSION_REFRESH_EACH_REQUEST=True,
    )
    headers = dict(SECURITY_HEADERS)
    if settings.secure_cookies:
        headers["Strict-Transport-Security"] = HSTS
    app.after_request(header_setter(headers))
    app.before_request(session_checker(settings.session_max_hours))
    if settings.proxy_hops:
        # The client's address and scheme as the trusted proxies saw them: the sign-in limit
        # per address and the session's protection need the real address.
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]


def header_setter(headers: dict[str, str]) -> Callable[[Response], Response]:
    def set_headers(response: Response) -> Response:
        response.headers.update(headers)
        if request.endpoint != "static":
            response.headers["Cache-Control"] = NO_STORE
        return response

    return set_headers


def session_checker(max_hours: int) -> Callable[[], Response | None]:
    """Ends a login session past its absolute limit, or one that Flask-Login's strong session
    protection saw come from another address or browser. Flask-Login only marks a permanent
    session "not fresh" in that case instead of ending it, and every login session here is
    permanent (for the idle limit), so it is ended here."""
    expired = f"Your session expired {max_hours} hours after you signed in. Please sign in again."

    def check_session() -> Response | None:
        if request.endpoint == "static" or "_user_id" not in session:
            return None
        signed_in_at = session.get(SIGNED_IN_AT)
        if not isinstance(signed_in_at, int) or time.time() - signed_in_at > max_hours * 3600:
            return signed_out(expired)
        if not current_user.is_authenticated:  # the server ended the session
            return signed_out(ENDED)
        if session.get("_fresh") is False:
            return signed_out(CHANGED_CLIENT)
        return None

    return check_session


def begin_session(principal: UserMixin, key: str) -> None:
    """Signs `principal` in, in a new cookie session (so a CSRF token from before is refused)
    holding `key`, the server's login session: the session lasts while the user is active, up
    to the absolute limit."""
    session.clear()
    login_user(principal)
    session.permanent = True
    session[SIGNED_IN_AT] = int(time.time())
    session[LOGIN_SESSION] = key


def login_session_key() -> str | None:
    """The key of this request's login session, if any."""
    key = session.get(LOGIN_SESSION)
    return key if isinstance(key, str) else None


def end_session() -> None:
    """Signs out: ends the server's login session, and forgets the whole cookie session, its
    CSRF token included."""
    key = login_session_key()
    if key is not None:
        with services().session_factory.begin() as db:
            end_login_session(db, key)
    logout_user()
    session.clear()


def signed_out(message: str) -> Response:
    """Ends the session; the API answers 401, a page sends the user to sign in again."""
    end_session()
    if request.blueprint == "api":
        raise Unauthorized(message)
    flash(message)
    # back to the same page after signing in (a path: the sign-in page takes no other address)
    query = request.query_string.decode()
    here = request.path + (f"?{query}" if query else "")
    next_url = here if request.method in ("GET", "HEAD") else None
    return redirect(login_url("auth.login", next_url))
