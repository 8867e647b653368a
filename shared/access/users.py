"""Users: make them, list them, change a role, the schools of a school admin or a password.

Changes are audited (`user.create`, `user.update`), naming what changed but never a password. The
district always keeps one district_admin at least, or nobody could manage users any more but from
the command line."""

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from shared.access.audit import MAX_USERNAME_LENGTH, record_audit
from shared.access.login_sessions import end_other_login_sessions
from shared.access.signin import ensure_password_fits, hash_password
from shared.core.errors import Conflict, InvalidRequest, NotFound
from shared.core.vocabulary import ROLES, Role
from shared.models import School, User, user_schools

ACTION_USER_CREATE: Final = "user.create"
ACTION_USER_UPDATE: Final = "user.update"


@dataclass(frozen=True)
class UserView:
    username: str
    role: str
    school_ids: tuple[str, ...]  # the district's identifiers, sorted
    created_at: datetime
    has_password: bool  # without one, the user only calls the API with tokens


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
        role=Role(role),
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
    if role == Role.SCHOOL_ADMIN and not school_ext_ids:
        raise InvalidRequest(f"a {Role.SCHOOL_ADMIN} needs at least one school", field="school")
    if role != Role.SCHOOL_ADMIN and school_ext_ids:
        raise InvalidRequest(
            f"only a {Role.SCHOOL_ADMIN} has schools, not a {role}", field="school"
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


def list_users(session: Session) -> list[UserView]:
    """Every user, by username."""
    schools: dict[int, list[str]] = defaultdict(list)
    for user_id, ext_id in session.execute(
        select(user_schools.c.user_id, School.ext_id)
        .join(School, School.id == user_schools.c.school_id)
        .order_by(School.ext_id)
    ):
        schools[user_id].append(ext_id)
    users = session.scalars(select(User).order_by(User.username))
    return [_view(user, schools[user.id]) for user in users]


def get_user(session: Session, username: str) -> UserView:
    user = _find(session, username)
    return _view(user, user_school_ext_ids(session, user))


def update_user(
    session: Session,
    username: str,
    *,
    role: str | None = None,
    school_ext_ids: list[str] | None = None,
    password: str | None = None,
    by: str | None,
    keep_session: str | None = None,
) -> dict[str, Any]:
    """Change what is given (None: keep it); `school_ext_ids` replaces the schools. A user who
    stops being a school_admin loses their schools. A new password ends the user's login
    sessions, but `keep_session` (the key of the session changing their own password). Returns
    what changed, as audited: empty when nothing did, and then nothing is recorded. `by` is who
    acts (None: the command line)."""
    user = _find(session, username, for_update=True)
    new_role = user.role if role is None else role
    if new_role not in ROLES:
        raise InvalidRequest(f"unknown role {role!r}; one of {', '.join(ROLES)}", field="role")
    if password is not None:
        ensure_password_fits(password)
    old_schools = user_school_ext_ids(session, user)
    if school_ext_ids is not None:
        new_schools = sorted(set(school_ext_ids))
    else:
        new_schools = old_schools if new_role == Role.SCHOOL_ADMIN else []
    ensure_schools_fit_role(new_role, new_schools)
    school_ids = school_ids_of(session, new_schools)
    if user.role == Role.DISTRICT_ADMIN and new_role != Role.DISTRICT_ADMIN:
        _ensure_another_district_admin(session, user)

    changes: dict[str, Any] = {}
    if new_role != user.role:
        user.role = changes["role"] = Role(new_role)
    if new_schools != old_schools:
        session.execute(delete(user_schools).where(user_schools.c.user_id == user.id))
        if school_ids:
            session.execute(
                insert(user_schools),
                [{"user_id": user.id, "school_id": school_id} for school_id in school_ids],
            )
        changes["schoolIds"] = new_schools
    if password is not None:
        user.password_hash = hash_password(password)
        end_other_login_sessions(session, user.id, keep=keep_session)
        changes["password"] = "changed"
    if changes:
        record_audit(
            session, username=by, action=ACTION_USER_UPDATE, subject=user.username, detail=changes
        )
    return changes


def _find(session: Session, username: str, *, for_update: bool = False) -> User:
    query = select(User).where(User.username == username)
    user = session.scalar(query.with_for_update() if for_update else query)
    if user is None:
        raise NotFound(f"no user named {username[:MAX_USERNAME_LENGTH]!r}")
    return user


def _ensure_another_district_admin(session: Session, user: User) -> None:
    # Locking every district_admin row makes two demotions at once take turns: the second
    # sees the first one's result, so the last two cannot demote each other.
    admins = session.scalars(
        select(User.id).where(User.role == Role.DISTRICT_ADMIN).with_for_update()
    ).all()
    if all(admin == user.id for admin in admins):
        raise Conflict(
            f"{user.username!r} is the last {Role.DISTRICT_ADMIN}; make another user "
            f"{Role.DISTRICT_ADMIN} first"
        )


def _view(user: User, school_ids: list[str]) -> UserView:
    return UserView(
        username=user.username,
        role=user.role,
        school_ids=tuple(school_ids),
        created_at=user.created_at,
        has_password=user.password_hash is not None,
    )
