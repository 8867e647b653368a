"""Preference values: one row per (subject, channel) with the eight reasons packed in a bitmask.

Channel 0 (householdPhone) rows belong to a household, channels 1-5 to a person, so `subject_id`
is a household id or a person id according to the channel. Each reason keeps its last setter
(see shared.core.vocabulary). The updated columns are in no index, and PostgreSQL keeps the table
at a low fillfactor so that batch updates stay HOT.
"""

from sqlalchemy import Column, Integer, SmallInteger, Table

from shared.core.vocabulary import REASONS
from shared.models.base import Base

SETTER_COLUMNS = tuple(
    "setter_" + "".join(f"_{ch.lower()}" if ch.isupper() else ch for ch in reason)
    for reason in REASONS
)


def setter_columns() -> list[Column[int]]:
    return [Column(name, Integer, nullable=False, default=0) for name in SETTER_COLUMNS]


preferences = Table(
    "preferences",
    Base.metadata,
    Column("subject_id", Integer, primary_key=True, autoincrement=False),
    Column("channel", SmallInteger, primary_key=True, autoincrement=False),
    Column("mask", SmallInteger, nullable=False, default=0),
    *setter_columns(),
    postgresql_with={"fillfactor": 50},
)
