"""Signing in: passwords kept as scrypt hashes, and the limits on failed sign-ins.

Hashes are in werkzeug's format, which names its own parameters, so a later change of cost keeps
old hashes readable. Failed sign-ins are counted per username and per address from the audit log
itself, so the limits hold across web processes.
"""

import secrets
from datetime import datetime, timedelta
from functools import cache
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from shared.access.audit import record_audit
from shared.core.errors import InvalidRequest
from shared.models import AuditEntry, User
from shared.models.base import utcnow

PASSWORD_METHOD: Final = "scrypt"
# ASVS 2.1.1 and 2.1.2: at least 12 characters, and any up to 128 accepted.
MIN_PASSWORD_LENGTH: Final = 12
MAX_PASSWORD_LENGTH: Final = 128
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


def ensure_password_fits(password: str) -> None:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidRequest(
            f"must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters", field="password"
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


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_METHOD)


@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_hex(16))
