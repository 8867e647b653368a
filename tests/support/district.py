"""Small hand-built districts for unit tests: entities through the ORM, preference rows direct."""

from datetime import date
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from shared.core.vocabulary import CHANNELS, REASON_BIT
from shared.imports.native.preference_rows import ensure_rows
from shared.models import (
    Calendar,
    DistrictAssignment,
    Enrollment,
    Household,
    HouseholdMember,
    Person,
    Relationship,
    School,
    preferences,
)
from shared.models.preferences import SETTER_COLUMNS

YEAR = "2025-26"
FIRST_DAY = date(2025, 8, 19)
LAST_DAY = date(2026, 6, 4)


class District:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._rows: dict[tuple[int, int], dict[str, Any]] = {}

    def _add(self, entity: Any) -> Any:
        self.session.add(entity)
        self.session.flush()
        return entity

    def school(self, ext_id: str) -> School:
        return self._add(School(ext_id=ext_id, name=f"School {ext_id}"))

    def calendar(
        self,
        ext_id: str,
        school: School,
        year: str = YEAR,
        start: date | None = FIRST_DAY,
        end: date | None = LAST_DAY,
    ) -> Calendar:
        return self._add(
            Calendar(
                ext_id=ext_id,
                school_id=school.id,
                name=ext_id,
                school_year=year,
                start_date=start,
                end_date=end,
            )
        )

    def person(self, ext_id: str, **addresses: str) -> Person:
        return self._add(Person(ext_id=ext_id, first_name="F", last_name=f"L{ext_id}", **addresses))

    def household(self, ext_id: str, phone: str | None = None) -> Household:
        return self._add(Household(ext_id=ext_id, name=f"Household {ext_id}", phone=phone))

    def member(
        self,
        household: Household,
        person: Person,
        start: date | None = None,
        end: date | None = None,
    ) -> None:
        self._add(
            HouseholdMember(
                household_id=household.id, person_id=person.id, start_date=start, end_date=end
            )
        )

    def enroll(
        self,
        person: Person,
        calendar: Calendar,
        grade: str = "01",
        start: date | None = None,
        end: date | None = None,
    ) -> None:
        self._add(
            Enrollment(
                person_id=person.id,
                calendar_id=calendar.id,
                grade=grade,
                start_date=start,
                end_date=end,
            )
        )

    def relate(
        self,
        student: Person,
        contact: Person,
        *,
        messenger: bool = True,
        start: date | None = None,
        end: date | None = None,
    ) -> None:
        self._add(
            Relationship(
                student_id=student.id,
                contact_id=contact.id,
                name="Mother",
                guardian=True,
                messenger=messenger,
                start_date=start,
                end_date=end,
            )
        )

    def assign(
        self,
        person: Person,
        school: School | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> None:
        self._add(
            DistrictAssignment(
                person_id=person.id,
                school_id=school.id if school else None,
                title="Teacher",
                start_date=start,
                end_date=end,
            )
        )

    def prefer(
        self,
        subject: Person | Household,
        channel: str,
        on: list[str],
        guardian: tuple[str, ...] = (),
    ) -> None:
        """Set a row's values: reasons `on` are on, the rest off; `guardian` reasons were set by
        a guardian, the rest by an import."""
        mask = sum(REASON_BIT[reason] for reason in on)
        setters = {
            column: -2 if reason in guardian else -1
            for reason, column in zip(REASON_BIT, SETTER_COLUMNS, strict=True)
        }
        self._rows[(subject.id, CHANNELS.index(channel))] = {"mask": mask, **setters}

    def finish(self) -> None:
        """Write the rows set by `prefer`, then a row (all off) for every other address."""
        self.session.flush()
        values = [
            {"subject_id": subject, "channel": channel} | row
            for (subject, channel), row in sorted(self._rows.items())
        ]
        if values:
            self.session.execute(insert(preferences), values)
        ensure_rows(self.session, {})
