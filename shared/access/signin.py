"""Signing in: passwords kept as argon2id hashes, and the limits on failed sign-ins.

Hashes are argon2-cffi's, with OWASP's argon2id parameters (19 MiB, two passes, one lane: about
45 ms on one core, so a burst of sign-ins cannot take every core of a small server); they name
their own parameters, so a later change of cost keeps old hashes readable, and a hash of an
older kind or cost (werkzeug's scrypt, from before) is replaced at the next sign-in.

The limits, counted from the audit log's `login.failed` entries, so that they hold across web
processes (docs/security.md, "Sign-in limits", says why these):
- MAX_FAILED_LOGINS wrong passwords for one username from one address within a quarter of an
  hour lock that username at that address;
- MAX_FAILED_LOGINS_PER_ADDRESS from one address lock that address (a guesser trying many
  usernames);
- the backstop: MAX_FAILED_LOGINS_PER_USER for one username within the hour, from anywhere,
  lock that username at the addresses it has not signed in from in KNOWN_ADDRESS_FOR. A
  stranger can thus lock a user out only where the user has never been.
A sign-in takes its turn per address and per username (`take_sign_in_turn`), so a burst of
attempts at once is judged one at a time against the same counts.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from shared.access.audit import record_audit, record_counted, recorded_from
from shared.access.turns import take_turn
from shared.core.errors import InvalidRequest
from shared.models import AuditEntry, User
from shared.models.base import utcnow

# ASVS 2.1.1 and 2.1.2: at least 12 characters, and any up to 128 accepted.
MIN_PASSWORD_LENGTH: Final = 12
MAX_PASSWORD_LENGTH: Final = 128
MAX_FAILED_LOGINS: Final = 5
MAX_FAILED_LOGINS_PER_ADDRESS: Final = 20
FAILED_LOGIN_WINDOW: Final = timedelta(minutes=15)
MAX_FAILED_LOGINS_PER_USER: Final = 50
USER_BACKSTOP_WINDOW: Final = timedelta(hours=1)
KNOWN_ADDRESS_FOR: Final = timedelta(days=90)

ACTION_LOGIN: Final = "login"
ACTION_LOGIN_FAILED: Final = "login.failed"
ACTION_LOGIN_THROTTLED: Final = "login.throttled"
ACTION_LOGOUT: Final = "logout"
# pg_advisory_xact_lock classes: "cpb" and 2 (an address's sign-ins), 3 (a username's).
ADDRESS_TURN: Final = 0x637062_02
USERNAME_TURN: Final = 0x637062_03

HASHER: Final = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@dataclass(frozen=True)
class SignIn:
    user: User | None  # None: refused
    throttled: bool  # refused without looking at the password


def ensure_password_fits(password: str) -> None:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidRequest(
            f"must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters", field="password"
        )


def sign_in(
    session: Session,
    username: str,
    password: str,
    *,
    remote_addr: str | None = None,
    now: datetime | None = None,
) -> SignIn:
    """Judges one sign-in and records it in the audit log with the address it came from: a
    `login` or a `login.failed` entry, or, while `login_throttled` holds, a count in the
    address's `login.throttled` entry (the right password is refused then too)."""
    now = now or utcnow()
    take_sign_in_turn(session, username, remote_addr)
    # The address is in the detail too, which the audit page shows.
    detail = {"remoteAddr": remote_addr} if remote_addr else None
    if login_throttled(session, username, remote_addr=remote_addr, now=now):
        record_counted(
            session,
            username=username,
            action=ACTION_LOGIN_THROTTLED,
            subject=username,
            detail=detail,
            remote_addr=remote_addr,
            now=now,
        )
        return SignIn(None, throttled=True)
    user = session.scalar(select(User).where(User.username == username))
    # Hash even for an unknown user, so the response time does not tell which usernames exist.
    stored = user.password_hash if user is not None and user.password_hash else _dummy_hash()
    right = password_matches(stored, password) and user is not None and bool(user.password_hash)
    action = ACTION_LOGIN if right else ACTION_LOGIN_FAILED
    record_audit(
        session,
        username=username,
        action=action,
        subject=username,
        detail=detail,
        remote_addr=remote_addr,
        at=now,
    )
    if not right or user is None:
        return SignIn(None, throttled=False)
    if _outdated(stored):
        user.password_hash = hash_password(password)
    return SignIn(user, throttled=False)


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    remote_addr: str | None = None,
    now: datetime | None = None,
) -> User | None:
    """The user if the password is theirs and no limit holds, else None (`sign_in`)."""
    return sign_in(session, username, password, remote_addr=remote_addr, now=now).user


def take_sign_in_turn(session: Session, username: str, remote_addr: str | None) -> None:
    """Waits for the other sign-ins from this address, then for those of this username, to
    end; held until this transaction ends. Always in that order, so two never wait for each
    other."""
    if remote_addr is not None:
        take_turn(session, ADDRESS_TURN, remote_addr)
    take_turn(session, USERNAME_TURN, username)


def login_throttled(
    session: Session,
    username: str,
    *,
    remote_addr: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Whether a sign-in as `username` from `remote_addr` is refused now (the limits above;
    None is the command line's address)."""
    now = now or utcnow()
    failed = select(func.count()).where(AuditEntry.action == ACTION_LOGIN_FAILED)
    recent = failed.where(AuditEntry.at > now - FAILED_LOGIN_WINDOW)
    here = recorded_from(remote_addr)
    if (session.scalar(recent.where(here, AuditEntry.username == username)) or 0) >= (
        MAX_FAILED_LOGINS
    ):
        return True
    if remote_addr is not None and (session.scalar(recent.where(here)) or 0) >= (
        MAX_FAILED_LOGINS_PER_ADDRESS
    ):
        return True
    everywhere = failed.where(
        AuditEntry.username == username, AuditEntry.at > now - USER_BACKSTOP_WINDOW
    )
    if (session.scalar(everywhere) or 0) < MAX_FAILED_LOGINS_PER_USER:
        return False
    signed_in_here = exists().where(
        AuditEntry.action == ACTION_LOGIN,
        AuditEntry.username == username,
        here,
        AuditEntry.at > now - KNOWN_ADDRESS_FOR,
    )
    return not session.scalar(select(signed_in_here))


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def password_matches(stored: str, password: str) -> bool:
    """Whether `password` is the one `stored` was made from: an argon2 hash, or a werkzeug
    one of before."""
    if not stored.startswith("$argon2"):
        return check_password_hash(stored, password)
    try:
        return HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _outdated(stored: str) -> bool:
    return not stored.startswith("$argon2") or HASHER.check_needs_rehash(stored)


@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_hex(16))
