"""Users, passwords and the audit log (API tokens: shared/access/tokens.py).

Passwords are kept as scrypt hashes (werkzeug's format, which names its own parameters, so a
later change of cost keeps old hashes readable). Failed logins are rate-limited per username
and per address from the audit log itself, so the limits hold across web processes.
"""

import secrets
from collections.abc import Collection
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Final

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from shared.core.errors import Conflict, InvalidRequest
from shared.models import AuditEntry, School, User, user_schools
from shared.models.accounts import ROLES
from shared.models.base import utcnow

PASSWORD_METHOD: Final = "scrypt"
# ASVS 2.1.1 and 2.1.2: at least 12 characters, and any up to 128 accepted.
MIN_PASSWORD_LENGTH: Final = 12
MAX_PASSWORD_LENGTH: Final = 128
MAX_USERNAME_LENGTH: Final = 100
MAX_AUDIT_SUBJECT_LENGTH: Final = 200
MAX_REMOTE_ADDR_LENGTH: Final = 45  # an IPv6 address in text
# Five wrong passwords for one username within a quarter of an hour lock that username's
# logins until the oldest of them leaves the window; twenty from one address lock that address's
# logins (for every username: a guesser trying many usernames).
MAX_FAILED_LOGINS: Final = 5
MAX_FAILED_LOGINS_PER_ADDRESS: Final = 20
FAILED_LOGIN_WINDOW: Final = timedelta(minutes=15)

ACTION_LOGIN: Final = "login"
ACTION_LOGIN_FAILED: Final = "login.failed"
ACTION_LOGIN_THROTTLED: Final = "login.throttled"
ACTION_LOGOUT: Final = "logout"
ACTION_USER_CREATE: Final = "user.create"
SCHOOL_ADMIN: Final = "school_admin"


def create_user(
    session: Session,
    username: str,
    role: str,
    password: str | None,
    school_ext_ids: list[str],
    *,
    by: str | None = None,
) -> User:
    """A new user, made by `by` (None: the command line). Without a password the user can only
    use API tokens."""
    username = username.strip()
    if not username or len(username) > MAX_USERNAME_LENGTH:
        raise InvalidRequest(f"must be 1 to {MAX_USERNAME_LENGTH} characters", field="username")
    if role not in ROLES:
        raise InvalidRequest(f"unknown role {role!r}; one of {', '.join(ROLES)}", field="role")
    ensure_schools_fit_role(role, school_ext_ids)
    if password is not None:
        ensure_password_fits(password)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"a user named {username!r} exists already")
    school_ids = school_ids_of(session, school_ext_ids)

    user = User(
        username=username,
        role=role,
        password_hash=None if password is None else hash_password(password),
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
        username=by,
        action=ACTION_USER_CREATE,
        subject=username,
        detail={"role": role, "schoolIds": sorted(set(school_ext_ids))},
    )
    return user


def ensure_schools_fit_role(role: str, school_ext_ids: Collection[str]) -> None:
    """Only a school_admin is limited to schools, and to one at least; the others act on the
    whole district."""
    if role == SCHOOL_ADMIN and not school_ext_ids:
        raise InvalidRequest(f"a {SCHOOL_ADMIN} needs at least one school", field="school")
    if role != SCHOOL_ADMIN and school_ext_ids:
        raise InvalidRequest(f"only a {SCHOOL_ADMIN} has schools, not a {role}", field="school")


def ensure_password_fits(password: str) -> None:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidRequest(
            f"must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters", field="password"
        )


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
    """The user if the password is theirs, else None. Records the attempt in the audit log,
    with the address it came from; while `login_throttled` holds, every attempt fails, even with
    the right password."""
    now = now or utcnow()
    # The address is in the detail too, which the audit page shows.
    detail = {"remoteAddr": remote_addr} if remote_addr else None

    def record(action: str) -> None:
        record_audit(
            session,
            username=username,
            action=action,
            subject=username,
            detail=detail,
            remote_addr=remote_addr,
        )

    if login_throttled(session, username, remote_addr=remote_addr, now=now):
        record(ACTION_LOGIN_THROTTLED)
        return None
    user = session.scalar(select(User).where(User.username == username))
    # Hash even for an unknown user, so the response time does not tell which usernames exist.
    stored = user.password_hash if user is not None and user.password_hash else _dummy_hash()
    if not check_password_hash(stored, password) or user is None or not user.password_hash:
        record(ACTION_LOGIN_FAILED)
        return None
    record(ACTION_LOGIN)
    return user


def login_throttled(
    session: Session,
    username: str,
    *,
    remote_addr: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Whether sign-ins as `username`, or from `remote_addr`, failed too often lately."""
    now = now or utcnow()
    failed = (
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == ACTION_LOGIN_FAILED, AuditEntry.at > now - FAILED_LOGIN_WINDOW)
    )
    if (session.scalar(failed.where(AuditEntry.username == username)) or 0) >= MAX_FAILED_LOGINS:
        return True
    if remote_addr is None:
        return False
    from_address = session.scalar(failed.where(AuditEntry.remote_addr == remote_addr)) or 0
    return from_address >= MAX_FAILED_LOGINS_PER_ADDRESS


def record_audit(
    session: Session,
    *,
    username: str | None,
    action: str,
    subject: str | None = None,
    detail: dict[str, Any] | None = None,
    remote_addr: str | None = None,
) -> None:
    """One line of the audit log: `username` is who acted (None: the command line or the
    system), `subject` what it was about, `remote_addr` where the request came from."""
    # Cut to the columns' widths: a failed login records whatever name was typed.
    session.add(
        AuditEntry(
            username=None if username is None else username[:MAX_USERNAME_LENGTH],
            action=action,
            subject=None if subject is None else subject[:MAX_AUDIT_SUBJECT_LENGTH],
            detail=detail,
            remote_addr=None if remote_addr is None else remote_addr[:MAX_REMOTE_ADDR_LENGTH],
        )
    )


def school_ids_of(session: Session, school_ext_ids: Collection[str]) -> list[int]:
    """The schools' row ids, in the order of their sorted identifiers; every one must exist."""
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


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_METHOD)


@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_hex(16))
