"""A synthetic district written as a native CSV bundle (`cpb seed`), deterministic for a seed.

Families of one to four students with one or two guardians share a household (some parents
live apart, so their children belong to two), grandparents and other non-guardian contacts,
a few emancipated seniors, staff with district assignments (some of them parents too),
addresses with gaps, and existing preferences, some of them set by guardians. Dates follow the
school year of `today`: the current calendars contain it or start next, so that "current"
enrollments exist whenever it runs. Rows are streamed to the files as they are made, so a
million students take a few minutes and little memory, and other writers can take the same rows.
"""

import csv
import random
import tempfile
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from shared.core.vocabulary import REASON_BIT, REASONS
from shared.imports.native import ImportSummary, import_bundle
from shared.imports.native.formats import SPECS

FIRST_NAMES = (
    "Ava Ben Chloe Daniel Elena Felix Grace Hugo Isla Jack Kira Leo Maya Noah Olivia Pablo "
    "Quinn Rosa Sam Tara Uma Victor Wen Xavier Yara Zane Amir Bea Carlos Dana Eli Fatima "
    "Gus Hana Ivan Jade Kofi Lena Mateo Nora Omar Priya Ravi Sofia Theo Vera Will Zoe"
).split()
LAST_NAMES = (
    "Adams Baker Chen Diaz Evans Fischer Garcia Hughes Ibrahim Jones Kim Lopez Murphy "
    "Nguyen Okafor Patel Quinn Rossi Smith Tanaka Usman Vargas Walker Xu Young Zhang Brooks "
    "Carter Dubois Ellis Flores Gupta Hansen Ito Jensen Kowalski Larsen Moreno Novak Ortiz"
).split()
SCHOOL_NAMES = (
    "Lincoln Washington Jefferson Roosevelt Franklin Madison Hamilton Carter Kennedy Adams "
    "Jackson Monroe Grant Harrison Wilson Hoover Truman Lake Riverside Hillcrest Oakwood"
).split()
LEVELS = (  # kind, name suffix, grades, students per school
    ("EL", "Elementary", ("KG", "01", "02", "03", "04", "05"), 450),
    ("MS", "Middle", ("06", "07", "08"), 700),
    ("HS", "High", ("09", "10", "11", "12"), 1400),
)
GRADES = tuple(grade for level in LEVELS for grade in level[2])
# Students per family: 1.75 on average, and as some parents live apart, about 1.6 per household.
CHILDREN = (1, 1, 1, 2, 2, 2, 2, 3)
STAFF_TITLES = ("Teacher",) * 12 + ("Aide",) * 3 + ("Counselor", "Nurse", "Secretary", "Custodian")
# Preference values people tend to have: emergency and attendance on, the rest varied.
PROFILES = tuple(
    sum(REASON_BIT[r] for r in reasons)
    for reasons in (
        ("emergency", "attendance", "priority"),
        ("emergency", "attendance", "behavior", "general", "priority", "teacher"),
        ("emergency", "attendance", "priority", "teacher", "foodService"),
        ("emergency", "priority"),
        tuple(REASONS),
        ("emergency",),
        (),
    )
)
_CELLS = [tuple("1" if mask >> k & 1 else "0" for k in range(len(REASONS))) for mask in range(256)]
_SETS = ["|".join(r for k, r in enumerate(REASONS) if mask >> k & 1) for mask in range(256)]
RowSink = Callable[[Sequence[Any]], object]
CHANNELS = ("homePhone", "workPhone", "cellPhone", "email", "secondaryEmail")


@dataclass(frozen=True)
class _School:
    ext_id: str
    level: int
    calendars: tuple[str, str]  # previous year, current year


def write_demo_bundle(
    directory: Path, students: int = 300, seed: int = 1, today: date | None = None
) -> None:
    """Write all nine files of a district of exactly `students` students to `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        sinks = {}
        for spec in SPECS:
            stream = stack.enter_context(
                (directory / spec.name).open("w", encoding="utf-8", newline="", buffering=1 << 20)
            )
            writer = csv.writer(stream)
            writer.writerow(spec.columns)
            sinks[spec.name.removesuffix(".csv")] = writer.writerow
        District(sinks, seed, today or date.today()).write(students)


def load_demo(
    session: Session, students: int = 300, seed: int = 1, today: date | None = None
) -> ImportSummary:
    """Write a demo bundle to a temporary folder and import it in the caller's transaction."""
    with tempfile.TemporaryDirectory(prefix="cpb-demo-") as folder:
        write_demo_bundle(Path(folder), students, seed, today)
        return import_bundle(session, Path(folder))


class District:
    """Makes the native rows, in the order of the files' references, each handed to the sink of
    its file (`people`, ...: the name without `.csv`), so that other formats translate the very
    same district (shared.imports.oneroster_seed)."""

    def __init__(self, sinks: Mapping[str, RowSink], seed: int, today: date) -> None:
        self.rows = sinks
        self.rng = random.Random(seed)
        # The current school year is the one containing today, or the next one in summer.
        year = today.year if (today.month, today.day) > (6, 5) else today.year - 1
        self.years = [(y, f"{y}-{(y + 1) % 100:02d}") for y in (year - 1, year)]
        self.first_day = date(year, 8, 20)
        self.today = today
        self.past_days = [(today - timedelta(days=d)).isoformat() for d in range(1, 1500)]
        self.schools: list[list[_School]] = [[], [], []]
        self.counters = {"G": 0, "S": 0, "E": 0, "H": 0, "phone": 0, "staff": 0}

    def write(self, students: int, settled: Callable[[], object] = lambda: None) -> None:
        """`settled` is called after each staff member and each family, once every row about
        their people is made: a translator holds no more than one family."""
        self._schools(students)
        for _ in range(students // 15 + 3):
            self._staff_member()
            settled()
        written = 0
        while written < students:
            written += self._family(min(self._pick(CHILDREN), students - written))
            settled()

    def _pick(self, options: Any) -> Any:
        return options[self.rng.randrange(len(options))]

    def _chance(self, probability: float) -> bool:
        return self.rng.random() < probability

    def _next(self, kind: str) -> int:
        self.counters[kind] += 1
        return self.counters[kind]

    def _schools(self, students: int) -> None:
        number = 0
        for level, (kind, suffix, grades, size) in enumerate(LEVELS):
            share = students * len(grades) / len(GRADES)
            for n in range(max(1, round(share / size))):
                number += 1
                ext_id = f"{kind}{number:03d}"
                name = f"{SCHOOL_NAMES[n % len(SCHOOL_NAMES)]} {suffix}" + (
                    f" {n // len(SCHOOL_NAMES) + 1}" if n >= len(SCHOOL_NAMES) else ""
                )
                self.rows["schools"]((ext_id, name))
                calendars = []
                for start_year, label in self.years:
                    calendar = f"{ext_id}-{label}"
                    start, end = date(start_year, 8, 20), date(start_year + 1, 6, 5)
                    self.rows["calendars"]((calendar, ext_id, f"{label} {name}", label, start, end))
                    calendars.append(calendar)
                self.schools[level].append(_School(ext_id, level, (calendars[0], calendars[1])))

    def _school(self, level: int, area: int) -> _School:
        schools = self.schools[level]
        return schools[area % len(schools)]

    def _phone(self, area: str) -> str:
        return f"{area}{self._next('phone') % 10_000_000:07d}"

    def _person(
        self,
        kind: str,
        first: str,
        last: str,
        odds: tuple[float, ...],
        student_number: str = "",
        staff: bool = False,
    ) -> str:
        """Write a person whose addresses are present with `odds` (home, work, cell, email,
        secondary email); returns their identifier."""
        number = self._next(kind)
        ext_id = f"{kind}{number:07d}"
        handle = f"{first}.{last}{number}".lower()
        domain = {"S": "students.example.org", "E": "district.example.org"}.get(kind, "example.com")
        addresses = [
            self._phone("952") if self._chance(odds[0]) else "",
            self._phone("953") if self._chance(odds[1]) else "",
            self._phone("951") if self._chance(odds[2]) else "",
            f"{handle}@{domain}" if self._chance(odds[3]) else "",
            f"{handle}.home@example.net" if self._chance(odds[4]) else "",
        ]
        staff_number = f"{self._next('staff'):06d}" if staff else ""
        self.rows["people"]((ext_id, first, last, student_number, staff_number, *addresses))
        guardian_odds = 0.2 if kind == "G" else 0.0
        for channel, address in zip(CHANNELS, addresses, strict=True):
            if address:
                self._preference("person", ext_id, channel, address, guardian_odds)
        return ext_id

    def _preference(self, kind: str, ext_id: str, channel: str, address: str, odds: float) -> None:
        """A preference row, whose guardian set is not empty with `odds`."""
        if not self._chance(0.8):
            return  # left to the import's default row: all off
        mask = self._pick(PROFILES)
        guardian = self.rng.getrandbits(8) & self.rng.getrandbits(8) if self._chance(odds) else 0
        self.rows["preferences"]((kind, ext_id, channel, address, *_CELLS[mask], _SETS[guardian]))

    def _staff_member(self, person: str | None = None) -> None:
        if person is None:
            first, last = self._pick(FIRST_NAMES), self._pick(LAST_NAMES)
            person = self._person("E", first, last, (0.2, 0.85, 0.6, 1.0, 0.1), staff=True)
        # A second assignment gets its own title, so that its natural key differs.
        for title in (self._pick(STAFF_TITLES), "Coach")[: 2 if self._chance(0.05) else 1]:
            level = self.rng.randrange(3)
            school = "" if self._chance(0.05) else self._pick(self.schools[level]).ext_id
            start = self._pick(self.past_days) if self._chance(0.5) else ""
            end = ""
            if self._chance(0.04):  # a former employee
                start, end = self.past_days[-1], self.past_days[self.rng.randrange(30, 300)]
            elif self._chance(0.02):  # starts soon
                start = (self.today + timedelta(days=self.rng.randrange(1, 30))).isoformat()
            self.rows["districtAssignments"]((person, school, title, start, end))

    def _family(self, children: int) -> int:
        last = self._pick(LAST_NAMES)
        area = self.rng.randrange(1000)
        parent_addresses = (0.35, 0.3, 0.92, 0.85, 0.1)
        lasts = [last]
        if self._chance(0.7):
            lasts.append(last if self._chance(0.8) else self._pick(LAST_NAMES))
        guardians = []
        for guardian_last in lasts:
            staff = self._chance(0.03)  # a parent who works for the district
            first = self._pick(FIRST_NAMES)
            guardians.append(self._person("G", first, guardian_last, parent_addresses, staff=staff))
            if staff:
                self._staff_member(guardians[-1])
        apart = len(guardians) == 2 and self._chance(0.12)
        groups = [[g] for g in guardians] if apart else [guardians]
        homes = [self._household(last, group) for group in groups]
        contact = None
        if self._chance(0.12):
            contact = self._person("G", self._pick(FIRST_NAMES), last, (0.6, 0.1, 0.8, 0.5, 0.0))
        titles = ("Mother", "Father") if self._chance(0.5) else ("Father", "Mother")
        for _ in range(children):
            student = self._student(last, area, homes)
            for n, guardian in enumerate(guardians):
                title = "Guardian" if self._chance(0.05) else titles[n]
                ended = self._pick(self.past_days) if self._chance(0.03) else ""
                messenger = "true" if self._chance(0.93) else "false"
                self.rows["relationships"]((student, guardian, title, "true", messenger, "", ended))
            if contact is not None:
                messenger = "true" if self._chance(0.5) else "false"
                title = self._pick(("Grandparent", "Aunt", "Uncle", "Emergency Contact"))
                self.rows["relationships"]((student, contact, title, "false", messenger, "", ""))
        return children

    def _household(self, last: str, members: list[str]) -> str:
        ext_id = f"H{self._next('H'):07d}"
        phone = self._phone("950") if self._chance(0.92) else ""
        self.rows["households"]((ext_id, f"{last} Household", phone))
        if phone:
            self._preference("household", ext_id, "householdPhone", phone, 0.15)
        for member in members:
            self._member(ext_id, member)
        return ext_id

    def _member(self, household: str, person: str) -> None:
        start = self._pick(self.past_days) if self._chance(0.1) else ""
        self.rows["householdMembers"]((household, person, start, ""))

    def _student(self, last: str, area: int, homes: list[str]) -> str:
        grade_at = self.rng.randrange(len(GRADES))
        level = next(n for n, lv in enumerate(LEVELS) if GRADES[grade_at] in lv[2])
        cell_odds = (0.1, 0.45, 0.75)[level]
        number = f"{self.counters['S'] + 1:07d}"
        odds = (0.2, 0.0, cell_odds, 0.85, 0.05)
        student = self._person("S", self._pick(FIRST_NAMES), last, odds, student_number=number)
        for home in homes:
            self._member(home, student)
        school = self._school(level, area)
        start = "" if self._chance(0.25) else self.first_day.isoformat()
        end = ""
        if self._chance(0.05):  # moved in during the year
            start = (self.first_day + timedelta(days=self.rng.randrange(1, 120))).isoformat()
        days_taught = (self.today - self.first_day).days
        if days_taught > 1 and self._chance(0.02):  # withdrew
            start = self.first_day.isoformat()
            end = (self.first_day + timedelta(days=self.rng.randrange(1, days_taught))).isoformat()
        self.rows["enrollments"]((student, school.calendars[1], GRADES[grade_at], start, end))
        if grade_at > 0:
            before = GRADES[grade_at - 1]
            old_level = next(n for n, lv in enumerate(LEVELS) if before in lv[2])
            calendar = self._school(old_level, area).calendars[0]
            first, last_day = self.years[0][0], self.years[0][0] + 1
            self.rows["enrollments"](
                (student, calendar, before, date(first, 8, 20), date(last_day, 6, 5))
            )
        if GRADES[grade_at] == "12" and self._chance(0.02):  # emancipated: their own contact
            self.rows["relationships"]((student, student, "Self", "false", "true", "", ""))
        return student
