"""Keeping `quarantined_addresses` as the last import left it, for the person page.

Every subject of the import's people.csv and households.csv loses its entries first (the file
now says what its addresses are), then each address the import quarantined is entered with the
value, why, and where it came from.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import cast

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.orm import Session

from shared.core.vocabulary import CHANNELS, HOUSEHOLD_PHONE
from shared.imports.findings import Finding
from shared.imports.native.formats import ENTITY_TABLES, HOUSEHOLDS, PEOPLE, FileSpec
from shared.imports.native.queries import chunked
from shared.imports.native.staging import staging
from shared.models import QuarantinedAddress

_KINDS: tuple[tuple[str, FileSpec, list[int]], ...] = (
    ("person", PEOPLE, [n for n in range(len(CHANNELS)) if n != HOUSEHOLD_PHONE]),
    ("household", HOUSEHOLDS, [HOUSEHOLD_PHONE]),
)


def record(
    session: Session, files: Iterable[str], findings: Iterable[Finding], label: str, now: datetime
) -> None:
    table = cast(Table, QuarantinedAddress.__table__)
    present = set(files)
    for subject_type, spec, channels in _KINDS:
        if spec.name not in present:
            continue
        entities = ENTITY_TABLES[subject_type]
        stage = staging(spec)
        subjects = select(entities.c.id).join(stage, stage.c[spec.key[0]] == entities.c.ext_id)
        session.execute(
            delete(table).where(table.c.subject_id.in_(subjects), table.c.channel.in_(channels))
        )
    wanted = [f for f in findings if f.subject is not None]
    for subject_type, _, _ in _KINDS:
        of_kind = [f for f in wanted if f.subject is not None and f.subject.type == subject_type]
        entities = ENTITY_TABLES[subject_type]
        for part in chunked(of_kind):
            ids: dict[str, int] = dict(
                session.execute(
                    select(entities.c.ext_id, entities.c.id).where(
                        entities.c.ext_id.in_({f.subject.ext_id for f in part if f.subject})
                    )
                ).all()
            )
            rows = {
                (ids[f.subject.ext_id], CHANNELS.index(f.subject.channel)): {
                    "subject_id": ids[f.subject.ext_id],
                    "channel": CHANNELS.index(f.subject.channel),
                    "value": f.shown_value,
                    "why": f.why,
                    "source": f"{f.file}:{f.line}, {label}"[:200],
                    "at": now,
                }
                for f in part
                if f.subject is not None and f.subject.ext_id in ids
            }
            if rows:
                session.execute(insert(table), list(rows.values()))
