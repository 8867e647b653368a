"""Users and their API tokens, for district admins (issue 6): list and create users, change a
role, a school admin's schools or a password, and create or revoke tokens.

The forms follow the web flow (the service, commit, flash, redirect); a refused form is shown
again with the message next to it. A new token is the exception: it is shown once, in the answer
to the POST that made it, and never cached, since only its digest is kept.
"""

from collections import Counter
from typing import Final

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from shared.access.tokens import TokenView, create_token, list_tokens, revoke_token
from shared.access.users import create_user, get_user, list_users, update_user
from shared.batches.catalog import schools
from shared.core.errors import Conflict, InvalidRequest, NotFound
from shared.core.vocabulary import ROLES
from web.auth import require_principal
from web.security import login_session_key
from web.services import services

ROLE_LABELS: Final = {
    "district_admin": "District admin",
    "school_admin": "School admin",
    "viewer": "Viewer",
}
FIELD_LABELS: Final = {
    "username": "Username",
    "role": "Role",
    "school": "Schools",
    "password": "Password",
    "name": "Token name",
}
# Which form of a user's page a refusal is shown next to.
UPDATE_FORM: Final = "update"
PASSWORD_FORM: Final = "password"
TOKEN_FORM: Final = "token"
TOKENS_TABLE: Final = "tokens"

Refusal = InvalidRequest | Conflict
PageAnswer = Response | str | tuple[str, int]


bp = Blueprint("users", __name__)


@bp.route("/users", methods=["GET", "POST"])
def index() -> PageAnswer:
    """GET lists the users; POST creates one (an empty password: a user of API tokens only)."""
    if request.method == "GET":
        return _render_index()
    username = request.form.get("username", "")
    try:
        with services().session_factory.begin() as session:
            user = create_user(
                session,
                username,
                request.form.get("role", ""),
                request.form.get("password") or None,
                request.form.getlist("school"),
                by=_admin(),
            )
            created = user.username
    except (InvalidRequest, Conflict) as error:
        return _render_index(error), _status(error)
    flash(f"Created user {created}.")
    return redirect(url_for("users.show", username=created))


@bp.route("/users/<username>", methods=["GET", "POST"])
def show(username: str) -> PageAnswer:
    """GET shows the user; POST changes their role and schools (the checked ones)."""
    if request.method == "GET":
        return _render_user(username)
    try:
        with services().session_factory.begin() as session:
            changes = update_user(
                session,
                username,
                role=request.form.get("role", ""),
                school_ext_ids=request.form.getlist("school"),
                by=_admin(),
            )
    except (InvalidRequest, Conflict) as error:
        return _render_user(username, UPDATE_FORM, error), _status(error)
    flash("Saved." if changes else "Nothing changed.")
    return redirect(url_for("users.show", username=username))


@bp.post("/users/<username>/password")
def set_password(username: str) -> PageAnswer:
    try:
        with services().session_factory.begin() as session:
            update_user(
                session,
                username,
                password=request.form.get("password", ""),
                by=_admin(),
                # changing one's own password keeps this session, and ends the others
                keep_session=login_session_key() if username == _admin() else None,
            )
    except (InvalidRequest, Conflict) as error:
        return _render_user(username, PASSWORD_FORM, error), _status(error)
    flash(f"The password of {username} is changed.")
    return redirect(url_for("users.show", username=username))


@bp.post("/users/<username>/tokens", endpoint="create_token")
def new_token(username: str) -> PageAnswer:
    """The new token is in this answer only: no redirect, no flash, no cache."""
    try:
        with services().session_factory.begin() as session:
            token = create_token(session, username, name=request.form.get("name", ""), by=_admin())
    except (InvalidRequest, Conflict) as error:
        return _render_user(username, TOKEN_FORM, error), _status(error)
    response = make_response(_render_user(username, new_token=token))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/users/<username>/tokens/<id:token_id>/revoke", endpoint="revoke_token")
def revoke(username: str, token_id: int) -> PageAnswer:
    try:
        with services().session_factory.begin() as session:
            if token_id not in {token.id for token in list_tokens(session, username)}:
                raise NotFound(f"{username!r} has no token {token_id}")
            revoke_token(session, token_id, by=_admin())
    except (InvalidRequest, Conflict) as error:
        return _render_user(username, TOKENS_TABLE, error), _status(error)
    flash(f"Token {token_id} is revoked.")
    return redirect(url_for("users.show", username=username))


def _admin() -> str:
    return require_principal().username


def _status(error: Refusal) -> int:
    """Bad input is a 400; a clash with the state (the name is taken, the last district
    admin, a token revoked already) a 409."""
    return 409 if isinstance(error, Conflict) else 400


def _render_index(error: Refusal | None = None) -> str:
    with services().session_factory() as session:
        views = list_users(session)
        active = Counter(
            token.username for token in list_tokens(session) if token.revoked_at is None
        )
        options = schools(session)
    refused = error is not None
    return render_template(
        "users.html",
        users=views,
        active_tokens=active,
        schools=options,
        roles=_roles(),
        error=_refusal(error),
        username=request.form.get("username", "") if refused else "",
        chosen_role=request.form.get("role", "") if refused else "",
        chosen_schools=request.form.getlist("school") if refused else [],
    )


def _render_user(
    username: str,
    error_form: str | None = None,
    error: Refusal | None = None,
    *,
    new_token: str | None = None,
) -> str:
    with services().session_factory() as session:
        user = get_user(session, username)
        tokens = list_tokens(session, username)
        options = schools(session)
    # A refused change shows what was chosen, so it can be corrected.
    updating = error_form == UPDATE_FORM
    return render_template(
        "user.html",
        user=user,
        tokens=[_token_row(token) for token in tokens],
        schools=options,
        roles=_roles(),
        error_form=error_form,
        error=_refusal(error),
        chosen_role=request.form.get("role", "") if updating else user.role,
        chosen_schools=request.form.getlist("school") if updating else list(user.school_ids),
        token_name=request.form.get("name", "") if error_form == TOKEN_FORM else "",
        new_token=new_token,
    )


def _roles() -> list[tuple[str, str]]:
    return [(role, ROLE_LABELS[role]) for role in ROLES]


def _token_row(token: TokenView) -> dict[str, object]:
    """Moments as ISO text, for the `moment` filter."""
    return {
        "id": token.id,
        "name": token.name,
        "created": token.created_at.isoformat(),
        "lastUsed": token.last_used_at.isoformat() if token.last_used_at else None,
        "revoked": token.revoked_at.isoformat() if token.revoked_at else None,
    }


def _refusal(error: Refusal | None) -> dict[str, str | None] | None:
    """What the page says next to the refused form: the field (with its label) and why."""
    if error is None:
        return None
    if isinstance(error, InvalidRequest) and error.field is not None:
        label = FIELD_LABELS.get(error.field, error.field)
        return {"field": error.field, "label": label, "message": error.message}
    return {"field": None, "label": None, "message": str(error)}
