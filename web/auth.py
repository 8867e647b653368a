"""Who is asking: the login session (Flask-Login) for pages, a bearer token or the session for
the API. What each role may call is in web/access.py; what a school admin may reach within a
call (their schools, their filters), in shared/access/reach.py, applied by the services."""

from typing import Final

from flask import Flask, g
from flask_login import LoginManager, UserMixin, current_user
from sqlalchemy.orm import Session
from werkzeug.exceptions import Unauthorized

from shared.access.login_sessions import login_session_user
from shared.access.reach import reach_of
from shared.models import User
from web.security import login_session_key
from web.services import services

WRITING_ROLES: Final = frozenset({"district_admin", "school_admin"})


class Principal(UserMixin):
    """The signed-in user between requests: the id and role, no ORM state."""

    def __init__(self, user_id: int, username: str, role: str) -> None:
        self.id = user_id
        self.username = username
        self.role = role

    @classmethod
    def of(cls, user: User) -> "Principal":
        return cls(user.id, user.username, user.role)

    @property
    def can_write(self) -> bool:
        """Whether pages offer this user their forms and buttons (web/access.py decides)."""
        return self.role in WRITING_ROLES


def register_login(app: Flask) -> None:
    manager = LoginManager(app)
    manager.login_view = "auth.login"
    manager.login_message = "Please sign in to see this page."
    # A session used from another address or browser is ended (web/security.py).
    manager.session_protection = "strong"

    @manager.user_loader
    def load_principal(user_id: str) -> Principal | None:
        """The user of the cookie's login session, with their role as it is now; None when the
        server ended that session (web/security.py then signs the browser out)."""
        key = login_session_key()
        if not user_id.isdigit() or key is None:
            return None
        with services().session_factory() as session:
            user = login_session_user(session, key)
            return None if user is None or user.id != int(user_id) else Principal.of(user)


def set_token_principal(principal: Principal) -> None:
    g.token_principal = principal


def current_principal() -> Principal | None:
    token_principal: Principal | None = g.get("token_principal")
    if token_principal is not None:
        return token_principal
    if current_user.is_authenticated:
        principal: Principal = current_user._get_current_object()
        return principal
    return None


def require_principal() -> Principal:
    principal = current_principal()
    if principal is None:
        raise Unauthorized("sign in, or send Authorization: Bearer <token>")
    return principal


def db_user(session: Session, principal: Principal) -> User:
    """The acting user as a row of this session, for the services to record and check."""
    user = session.get(User, principal.id)
    if user is None:  # deleted while signed in
        raise Unauthorized("this user no longer exists")
    return user


def school_limit() -> frozenset[int] | None:
    """The schools the caller is limited to (a school admin's), or None: the whole district."""
    with services().session_factory() as session:
        return reach_of(session, db_user(session, require_principal())).school_ids
