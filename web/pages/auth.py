"""Sign in and sign out (the login session of the pages; the API also accepts it)."""

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from shared.accounts import authenticate, login_throttled
from web.auth import Principal
from web.services import services


def make_auth_blueprint() -> Blueprint:
    auth = Blueprint("auth", __name__)
    auth.add_url_rule("/login", "login", login, methods=["GET", "POST"])
    auth.add_url_rule("/logout", "logout", logout, methods=["POST"])
    return auth


def login() -> Response | str | tuple[str, int]:
    next_url = _safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("batches.history"))
    if request.method == "GET":
        return render_template("login.html", next_url=next_url, username="")

    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    with services().session_factory.begin() as session:
        user = authenticate(session, username, password, remote_addr=request.remote_addr)
        principal = None if user is None else Principal.of(user)
        throttled = principal is None and login_throttled(session, username)
    if principal is not None:
        login_user(principal)
        return redirect(next_url or url_for("wizard.new_batch"))
    error = (
        "Too many failed sign-ins for this user. Try again in a quarter of an hour."
        if throttled
        else "Wrong username or password."
    )
    page = render_template("login.html", next_url=next_url, username=username, error=error)
    return page, 429 if throttled else 401


def logout() -> Response:
    logout_user()
    return redirect(url_for("auth.login"))


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site, so the sign-in page cannot send anyone elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target
