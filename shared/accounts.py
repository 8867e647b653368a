"""Users, passwords, API tokens and the audit log.

Passwords are kept as scrypt hashes (werkzeug's format, which names its own parameters, so a
later change of cost keeps old hashes readable). API tokens are random; only their SHA-256
digest is stored, so a leaked database does not leak usable tokens. Failed logins are
rate-limited per username from the audit log itself, so the limit holds across web processes.
"""

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Final

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from shared.errors import Conflict, InvalidRequest, NotFound
from shared.models import ApiToken, AuditEntry, School, User, user_schools
from shared.models.accounts import ROLES
from shared.models.base import utcnow

PASSWORD_METHOD: Final = "scrypt"
MIN_PASSWORD_LENGTH: Final = 8
MAX_USERNAME_LENGTH: Final = 100
MAX_AUDIT_SUBJECT_LENGTH: Final = 200
# Five wrong passwords for one username within a quarter of an hour lock that username's
# logins until the oldest of them leaves the window.
MAX_FAILED_LOGINS: Final = 5
FAILED_LOGIN_WINDOW: Final = timedelta(minutes=15)

ACTION_LOGIN: Final = "login"
ACTION_LOGIN_FAILED: Final = "login.failed"
ACTION_LOGIN_THROTTLED: Final = "login.throttled"
ACTION_USER_CREATE: Final = "user.create"
ACTION_TOKEN_CREATE: Final = "token.create"


def create_user(
    session: Session,
    username: str,
    role: str,
    password: str | None,
    school_ext_ids: list[str],
) -> User:
    """A new user. Without a password the user can only use API tokens."""
    username = username.strip()
    if not username or len(username) > MAX_USERNAME_LENGTH:
        raise InvalidRequest(f"must be 1 to {MAX_USERNAME_LENGTH} characters", field="username")
    if role not in ROLES:
        raise InvalidRequest(f"unknown role {role!r}; one of {', '.join(ROLES)}", field="role")
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidRequest(f"must be at least {MIN_PASSWORD_LENGTH} characters", field="password")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"a user named {username!r} exists already")
    school_ids = _school_ids(session, school_ext_ids)

    user = User(
        username=username,
        role=role,
        password_hash=None if password is None else _hash(password),
    )
    session.add(user)
    session.flush()
    if school_ids:
        session.execute(
            insert(user_schools),
            [{"user_id": user.id, "school_id": school_id} for school_id in school_ids],
        )
    record_audit(
        session,
        username=None,
        action=ACTION_USER_CREATE,
        subject=username,
        detail={"role": role, "schoolIds": sorted(set(school_ext_ids))},
    )
    return user


def user_school_ext_ids(session: Session, user: User) -> list[str]:
    """The schools a school_admin is limited to, by the district's identifiers."""
    return list(
        session.scalars(
            select(School.ext_id)
            .join(user_schools, user_schools.c.school_id == School.id)
            .where(user_schools.c.user_id == user.id)
            .order_by(School.ext_id)
        )
    )


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    remote_addr: str | None = None,
    now: datetime | None = None,
) -> User | None:
    """The user if the password is theirs, else None. Records the attempt in the audit log;
    while `login_throttled` holds, every attempt fails, even with the right password."""
    now = now or utcnow()
    detail = {"remoteAddr": remote_addr} if remote_addr else None
    if login_throttled(session, username, now=now):
        record_audit(
            session,
            username=username,
            action=ACTION_LOGIN_THROTTLED,
            subject=username,
            detail=detail,
        )
        return None
    user = session.scalar(select(User).where(User.username == username))
    # Hash even for an unknown user, so the response time does not tell which usernames exist.
    stored = user.password_hash if user is not None and user.password_hash else _dummy_hash()
    if not check_password_hash(stored, password) or user is None or not user.password_hash:
        record_audit(
            session, username=username, action=ACTION_LOGIN_FAILED, subject=username, detail=detail
        )
        return None
    record_audit(session, username=username, action=ACTION_LOGIN, subject=username, detail=detail)
    return user


def login_throttled(session: Session, username: str, *, now: datetime | None = None) -> bool:
    now = now or utcnow()
    failures = session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(
            AuditEntry.action == ACTION_LOGIN_FAILED,
            AuditEntry.username == username,
            AuditEntry.at > now - FAILED_LOGIN_WINDOW,
        )
    )
    return (failures or 0) >= MAX_FAILED_LOGINS


def create_token(session: Session, username: str) -> str:
    """A new API token for the user; the token itself is returned once and never stored."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user named {username!r}")
    token = secrets.token_urlsafe(32)
    api_token = ApiToken(user_id=user.id, digest=token_digest(token))
    session.add(api_token)
    session.flush()
    record_audit(
        session,
        username=None,
        action=ACTION_TOKEN_CREATE,
        subject=username,
        detail={"tokenId": api_token.id},
    )
    return token


def user_for_token(session: Session, token: str) -> User | None:
    if not token:
        return None
    return session.scalar(
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.digest == token_digest(token))
    )


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def record_audit(
    session: Session,
    *,
    username: str | None,
    action: str,
    subject: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """One line of the audit log: `username` is who acted (None: the command line or the
    system), `subject` what it was about."""
    # Cut to the columns' widths: a failed login records whatever name was typed.
    session.add(
        AuditEntry(
            username=None if username is None else username[:MAX_USERNAME_LENGTH],
            action=action,
            subject=None if subject is None else subject[:MAX_AUDIT_SUBJECT_LENGTH],
            detail=detail,
        )
    )


def _school_ids(session: Session, school_ext_ids: list[str]) -> list[int]:
    wanted = sorted(set(school_ext_ids))
    if not wanted:
        return []
    found = dict(
        session.execute(select(School.ext_id, School.id).where(School.ext_id.in_(wanted))).all()
    )
    missing = [ext_id for ext_id in wanted if ext_id not in found]
    if missing:
        raise InvalidRequest(f"unknown school(s): {', '.join(missing)}", field="school")
    return [found[ext_id] for ext_id in wanted]


def _hash(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_METHOD)


@cache
def _dummy_hash() -> str:
    return _hash(secrets.token_hex(16))
