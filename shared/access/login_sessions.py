"""Login sessions kept by the server. The browser's cookie holds a random key; the database
keeps its SHA-256 digest and whether the session is still open. So a copy of the cookie is
worth nothing once its session ends: at sign-out, past its limits, or when the user's password
changes (which ends every other session of theirs). The user's role is read at each request,
so a role change applies at the next one."""

import secrets
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from shared.access.tokens import token_digest
from shared.models import LoginSession, User
from shared.models.base import utcnow


def open_login_session(
    session: Session, user: User, *, forget_before: datetime, now: datetime | None = None
) -> str:
    """A new session of `user`; its key, for the cookie (only its digest is kept). The user's
    sessions that ended, or began before `forget_before` (past every limit), are deleted."""
    now = now or utcnow()
    session.execute(
        delete(LoginSession).where(
            LoginSession.user_id == user.id,
            or_(LoginSession.ended_at.is_not(None), LoginSession.created_at < forget_before),
        )
    )
    key = secrets.token_urlsafe(32)
    session.add(LoginSession(user_id=user.id, digest=token_digest(key), created_at=now))
    return key


def login_session_user(session: Session, key: str) -> User | None:
    """The user of the open session with this key; None for an unknown or ended one."""
    return session.scalar(
        select(User)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(LoginSession.digest == token_digest(key), LoginSession.ended_at.is_(None))
    )


def end_login_session(session: Session, key: str, *, now: datetime | None = None) -> None:
    session.execute(
        update(LoginSession)
        .where(LoginSession.digest == token_digest(key), LoginSession.ended_at.is_(None))
        .values(ended_at=now or utcnow())
    )


def end_other_login_sessions(
    session: Session, user_id: int, *, keep: str | None, now: datetime | None = None
) -> None:
    """Ends every open session of the user but the one with key `keep` (None: all)."""
    query = update(LoginSession).where(
        LoginSession.user_id == user_id, LoginSession.ended_at.is_(None)
    )
    if keep is not None:
        query = query.where(LoginSession.digest != token_digest(keep))
    session.execute(query.values(ended_at=now or utcnow()))
