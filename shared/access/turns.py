"""Turns: transactions about the same thing (sign-ins from one address, refusals counted for
one address) wait for each other, so that what one counts the next one sees."""

import hashlib

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.core.db import is_sqlite


def take_turn(session: Session, kind: int, name: str) -> None:
    """Waits until no other transaction holds the turn of (`kind`, `name`); held until this
    transaction ends. On PostgreSQL an advisory lock keyed by the kind and 32 bits of the
    name's SHA-256 (two names rarely share a key, and then only wait for each other); on
    SQLite the transaction holds the database's one write lock already (BEGIN IMMEDIATE)."""
    if is_sqlite(session):
        return
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big", signed=True)
    session.execute(select(func.pg_advisory_xact_lock(kind, key)))
