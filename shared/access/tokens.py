"""API tokens: made for a user and shown once, stored as a SHA-256 digest,
listed, revoked. Use is recorded: the token's last use, and an audit entry for the first use in
each hour, so a token polling every second does not write a row per request."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.access.audit import MAX_USERNAME_LENGTH, record_audit, record_counted
from shared.core.errors import Conflict, InvalidRequest, NotFound
from shared.models import ApiToken, User
from shared.models.base import utcnow

ACTION_TOKEN_CREATE: Final = "token.create"
ACTION_TOKEN_REVOKE: Final = "token.revoke"
ACTION_TOKEN_USE: Final = "token.use"
ACTION_TOKEN_REFUSED: Final = "token.refused"
USE_RECORDED_EVERY: Final = timedelta(hours=1)
MAX_TOKEN_NAME_LENGTH: Final = 100


@dataclass(frozen=True)
class TokenView:
    id: int
    username: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def create_token(session: Session, username: str, *, name: str = "", by: str | None = None) -> str:
    """A new API token for the user; the token itself is returned once and never stored."""
    name = name.strip()
    if len(name) > MAX_TOKEN_NAME_LENGTH:
        raise InvalidRequest(f"must be at most {MAX_TOKEN_NAME_LENGTH} characters", field="name")
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user named {username[:MAX_USERNAME_LENGTH]!r}")
    token = secrets.token_urlsafe(32)
    api_token = ApiToken(user_id=user.id, digest=token_digest(token), name=name)
    session.add(api_token)
    session.flush()
    record_audit(
        session,
        username=by,
        action=ACTION_TOKEN_CREATE,
        subject=username,
        detail={"tokenId": api_token.id, **({"name": name} if name else {})},
    )
    return token


def list_tokens(session: Session, username: str | None = None) -> list[TokenView]:
    """Every token (or one user's), oldest first; revoked ones too."""
    query = select(ApiToken, User.username).join(User, User.id == ApiToken.user_id)
    if username is not None:
        query = query.where(User.username == username)
    return [
        TokenView(
            token.id,
            owner,
            token.name,
            token.created_at,
            token.last_used_at,
            token.revoked_at,
        )
        for token, owner in session.execute(query.order_by(ApiToken.id))
    ]


def revoke_token(
    session: Session, token_id: int, *, by: str | None = None, now: datetime | None = None
) -> None:
    api_token = session.get(ApiToken, token_id, with_for_update=True)
    if api_token is None:
        raise NotFound(f"no token {token_id}")
    if api_token.revoked_at is not None:
        raise Conflict(f"token {token_id} was revoked already")
    api_token.revoked_at = now or utcnow()
    owner = session.get(User, api_token.user_id)
    record_audit(
        session,
        username=by,
        action=ACTION_TOKEN_REVOKE,
        subject=owner.username if owner else None,
        detail={"tokenId": token_id},
    )


def token_user(session: Session, token: str) -> tuple[User, ApiToken] | None:
    """The user a presented token belongs to, and the token; None for an unknown or revoked
    token."""
    if not token:
        return None
    found = session.execute(
        select(User, ApiToken)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.digest == token_digest(token), ApiToken.revoked_at.is_(None))
    ).one_or_none()
    return None if found is None else (found[0], found[1])


def user_for_token(session: Session, token: str) -> User | None:
    found = token_user(session, token)
    return None if found is None else found[0]


def record_token_use(
    session: Session,
    user: User,
    api_token: ApiToken,
    *,
    request: str,
    remote_addr: str | None,
    now: datetime | None = None,
) -> None:
    """Note the use; the first use in each hour also goes into the audit log."""
    now = now or utcnow()
    last = api_token.last_used_at
    if last is not None and last.tzinfo is None:  # SQLite gives back naive UTC
        last = last.replace(tzinfo=now.tzinfo)
    if last is not None and now - last < USE_RECORDED_EVERY:
        return
    api_token.last_used_at = now
    record_audit(
        session,
        username=user.username,
        action=ACTION_TOKEN_USE,
        subject=user.username,
        detail={"tokenId": api_token.id, "request": request},
        remote_addr=remote_addr,
    )


def record_token_refused(
    session: Session, token: str, *, request: str, remote_addr: str | None
) -> None:
    """An unknown or revoked token was presented. A revoked one names its owner and id. The
    refusals of one address are counted in one entry per quarter of an hour (`record_counted`):
    a flood of junk tokens cannot grow the log. The answer stays a 401, as RFC 6750 has it for
    an invalid token: a 429 would also turn away the good tokens of clients sharing the
    address, and tells a guesser of 256-bit tokens nothing they could use."""
    revoked = session.execute(
        select(ApiToken.id, User.username)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.digest == token_digest(token))
    ).one_or_none()
    detail: dict[str, object] = {"request": request, "reason": "unknown token"}
    if revoked is not None:
        detail |= {"reason": "revoked token", "tokenId": revoked[0]}
    record_counted(
        session,
        username=None if revoked is None else revoked[1],
        action=ACTION_TOKEN_REFUSED,
        subject=None if revoked is None else revoked[1],
        detail=detail,
        remote_addr=remote_addr,
    )


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
