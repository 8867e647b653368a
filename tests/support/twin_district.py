"""A small district written twice from one model (`make_district`): as a OneRoster 1.1 CSV
bundle (all bulk) and as the native CSV bundle that the promised mapping makes of it, written
here, not by the product's translator, so that importing both checks that translator. Only
what OneRoster carries: no household phones, work phones, secondary e-mails or preferences."""

import csv
import random
from collections import defaultdict
from dataclasses import dataclass, field
from hashlib import sha1
from pathlib import Path

from shared.imports.native import formats as f

DISTRICT = ("district", "Twin Valley Schools")
SCHOOLS = (("sch-north", "North Elementary"), ("sch-south", "South Middle"))
# sourcedId, title, schoolYear (the year it ends), start, end; each has the terms below.
YEARS = (
    ("sy2025", "2024-25 School Year", "2025", "2024-08-20", "2025-06-05"),
    ("sy2026", "2025-26 School Year", "2026", "2025-08-19", "2026-06-04"),
)
# suffix, type, parent suffix ("": the year), start and end month-day, in the spring or not
TERMS = (
    ("fall", "semester", "", "08-20", "12-19", False),
    ("spring", "semester", "", "01-05", "06-04", True),
    ("q1", "gradingPeriod", "fall", "08-20", "10-24", False),
)
GUARDIAN_ROLES = ("parent", "guardian")
STAFF_ROLES = ("teacher", "administrator", "aide")
FIRST = ("Ava", "Ben", "Cora", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "June", "Kai", "Lena")
LAST = ("Diaz", "Lee", "Okafor", "Novak", "Silva", "Tran", "Berg", "Moss", "Quinn", "Roy")
SIDES = ("student", "contact", "both")  # which users.csv rows name a link in agentSourcedIds
NAME_OF = {"parent": "Parent", "guardian": "Guardian", "relative": "Relative"}


@dataclass
class User:
    id: str
    role: str
    given: str
    family: str
    identifier: str
    orgs: tuple[str, ...]
    grades: tuple[str, ...] = ()
    email: str = ""
    sms: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Klass:
    id: str
    school: str
    year: str  # the schoolYear session above its first term
    terms: tuple[str, ...]


@dataclass(frozen=True)
class Seat:  # a class enrollment
    klass: Klass
    user: str
    role: str
    begin: str
    end: str


@dataclass
class District:
    sessions: list[dict[str, str]]  # the rows of academicSessions.csv
    users: dict[str, User] = field(default_factory=dict)
    links: list[tuple[str, str, str]] = field(default_factory=list)  # student, contact, side
    classes: list[Klass] = field(default_factory=list)
    seats: list[Seat] = field(default_factory=list)


def _sessions() -> list[dict[str, str]]:
    rows = []
    for year, title, ends, start, end in YEARS:
        rows.append({"sourcedId": year, "title": title, "type": "schoolYear"})
        rows[-1] |= {"startDate": start, "endDate": end, "schoolYear": ends}
        for suffix, kind, parent, begins, finishes, spring in TERMS:
            on = ends if spring else str(int(ends) - 1)
            rows.append({"sourcedId": f"{year}-{suffix}", "title": f"{title} {suffix}"})
            rows[-1] |= {"type": kind, "startDate": f"{on}-{begins}", "endDate": f"{on}-{finishes}"}
            rows[-1] |= {"parentSourcedId": f"{year}-{parent}".strip("-"), "schoolYear": ends}
    return rows


def make_district(seed: int = 11, students: int = 60) -> District:
    """Staff, and `students` students in families of one to three with their guardians and
    relatives; the same seed gives the same district."""
    rng = random.Random(seed)
    district = District(_sessions())
    spans = {row["sourcedId"]: (row["startDate"], row["endDate"]) for row in district.sessions}
    serial = iter(range(1, 10_000))

    def person(prefix: str, role: str, family: str, orgs: tuple[str, ...]) -> User:
        n = next(serial)
        given = rng.choice(FIRST)
        user = User(f"{prefix}-{n:03d}", role, given, family, f"{prefix.upper()}{n:04d}", orgs)
        user.email = f"{given}.{family}.{n}@example.org".lower() if rng.random() < 0.75 else ""
        user.phone = f"555-{1000 + n:04d}" if rng.random() < 0.6 else ""
        user.sms = f"(555) 2{n:03d}" if rng.random() < 0.5 else ""
        district.users[user.id] = user
        return user

    schools = [school for school, _ in SCHOOLS]
    staff = [person("emp", role, rng.choice(LAST), (s,)) for s in schools for role in STAFF_ROLES]
    staff.append(person("emp", "teacher", "Both", tuple(schools)))  # at both schools
    staff.append(person("emp", "administrator", "Central", (DISTRICT[0],)))
    staff.append(person("emp", "teacher", "Mixed", (DISTRICT[0], schools[1])))
    offered: dict[tuple[str, str], list[Klass]] = defaultdict(list)
    teachers = {s: [u for u in staff if u.role == "teacher" and s in u.orgs] for s in schools}
    for school in schools:
        for year, *_ in YEARS:
            fall, spring, q1 = (f"{year}-{term}" for term, *_ in TERMS)
            for k, terms in enumerate(((fall,), (spring, fall), (q1,), (year,))):
                district.classes.append(Klass(f"{school}-{year}-c{k}", school, year, terms))
                offered[school, year].append(district.classes[-1])

    def seat(klass: Klass, user: str, role: str, left: str = "") -> None:
        begin, end = spans[klass.terms[0]]
        begin = "" if rng.random() < 0.08 else begin
        end = left or ("" if rng.random() < 0.08 else end)
        district.seats.append(Seat(klass, user, role, begin, end))

    for klass in district.classes:
        seat(klass, rng.choice(teachers[klass.school]).id, "teacher")

    def enroll(student: User) -> None:
        home = student.orgs[0]
        left = "2025-09-30" if rng.random() < 0.1 else ""  # left before the test's day
        for klass in rng.sample(offered[home, "sy2026"], rng.randint(1, 3)):
            seat(klass, student.id, "student", left)
        if rng.random() < 0.12:  # a class at the other school too
            other = schools[1 - schools.index(home)]
            seat(rng.choice(offered[other, "sy2026"]), student.id, "student")
        if rng.random() < 0.6:
            for klass in rng.sample(offered[home, "sy2025"], rng.randint(1, 2)):
                seat(klass, student.id, "student")

    partnered: list[User] = []  # a parent of a two-guardian family may have another
    made = 0
    while made < students:
        size = min(rng.choice((1, 1, 2, 2, 3)), students - made)
        count = rng.choices((0, 1, 2), weights=(1, 3, 6))[0]
        guardians: list[User] = []
        if count == 2 and partnered and rng.random() < 0.35:
            guardians.append(partnered.pop(rng.randrange(len(partnered))))
        while len(guardians) < count:
            role = "parent" if rng.random() < 0.8 else "guardian"
            guardians.append(person("grd", role, rng.choice(LAST), (DISTRICT[0],)))
        if count == 2 and len(partnered) < 3:
            partnered.append(guardians[-1])
        family, home = guardians[0].family if guardians else rng.choice(LAST), rng.choice(schools)
        children = [person("stu", "student", family, (home,)) for _ in range(size)]
        for child in children:
            grade = f"{rng.randint(1, 8):02d}"
            child.grades = (grade, f"{int(grade) + 1:02d}") if rng.random() < 0.2 else (grade,)
            enroll(child)
            district.links += [(child.id, g.id, rng.choice(SIDES)) for g in guardians]
        if rng.random() < (0.3 if guardians else 0.6):
            relative = person("rel", "relative", rng.choice(LAST), (DISTRICT[0],))
            for child in rng.sample(children, rng.randint(1, len(children))):
                district.links.append((child.id, relative.id, rng.choice(SIDES)))
        made += size
    return district


COLUMNS = {
    "manifest.csv": "propertyName value",
    "orgs.csv": "sourcedId status dateLastModified name type identifier parentSourcedId",
    "academicSessions.csv": "sourcedId status dateLastModified title type startDate endDate "
    "parentSourcedId schoolYear",
    "classes.csv": "sourcedId status dateLastModified title grades courseSourcedId classCode "
    "classType location schoolSourcedId termSourcedIds subjects subjectCodes periods",
    "enrollments.csv": "sourcedId status dateLastModified classSourcedId schoolSourcedId "
    "userSourcedId role primary beginDate endDate",
    "users.csv": "sourcedId status dateLastModified enabledUser orgSourcedIds role username "
    "userIds givenName familyName middleName identifier email sms phone agentSourcedIds grades "
    "password",
}
ABSENT = "categories classResources courses demographics lineItems resources results".split()
MANIFEST = [("manifest.version", "1.0"), ("oneroster.version", "1.1")]
MANIFEST += [(f"file.{name}", "absent") for name in ABSENT]
MANIFEST += [(f"file.{name.removesuffix('.csv')}", "bulk") for name in list(COLUMNS)[1:]]


def _write(folder: Path, file: str | f.FileSpec, rows: list[dict[str, str]]) -> None:
    """A OneRoster file (by name) or a native one (by its format); the cells not given are empty."""
    name, columns = (
        (file, COLUMNS[file].split()) if isinstance(file, str) else (file.name, file.columns)
    )
    with (folder / name).open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, columns, restval="")
        writer.writeheader()
        writer.writerows(rows)


def write_oneroster(district: District, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder, "manifest.csv", [{"propertyName": k, "value": v} for k, v in MANIFEST])
    orgs = [{"sourcedId": DISTRICT[0], "name": DISTRICT[1], "type": "district"}]
    for school, name in SCHOOLS:
        orgs.append({"sourcedId": school, "name": name, "type": "school"})
        orgs[-1]["parentSourcedId"] = DISTRICT[0]
    _write(folder, "orgs.csv", orgs)
    _write(folder, "academicSessions.csv", district.sessions)
    classes = [
        {"sourcedId": k.id, "title": f"Class {k.id}", "classType": "scheduled"}
        | {"schoolSourcedId": k.school, "termSourcedIds": ",".join(k.terms)}
        for k in district.classes
    ]
    _write(folder, "classes.csv", classes)
    seats = [
        {"sourcedId": f"enr-{n:04d}", "classSourcedId": s.klass.id, "role": s.role}
        | {"schoolSourcedId": s.klass.school, "userSourcedId": s.user, "primary": "false"}
        | {"beginDate": s.begin, "endDate": s.end}
        for n, s in enumerate(district.seats, 1)
    ]
    _write(folder, "enrollments.csv", seats)
    agents: dict[str, list[str]] = defaultdict(list)
    for student, contact, side in district.links:
        agents[student] += [contact] if side != "contact" else []
        agents[contact] += [student] if side != "student" else []
    users = [
        {"sourcedId": u.id, "enabledUser": "true", "orgSourcedIds": ",".join(u.orgs)}
        | {"role": u.role, "username": u.id, "givenName": u.given, "familyName": u.family}
        | {"identifier": u.identifier, "email": u.email, "sms": u.sms, "phone": u.phone}
        | {"agentSourcedIds": ",".join(agents[u.id]), "grades": ",".join(u.grades)}
        for u in district.users.values()
    ]
    _write(folder, "users.csv", users)
    return folder


def write_native(district: District, folder: Path) -> Path:
    """The native bundle the mapping makes of the same district."""
    folder.mkdir(parents=True, exist_ok=True)
    users, schools = district.users.values(), [school for school, _ in SCHOOLS]
    _write(folder, f.SCHOOLS, [{"schoolId": school, "name": name} for school, name in SCHOOLS])
    calendars = [
        {"calendarId": f"{school}-{y['sourcedId']}", "schoolId": school, "name": y["title"]}
        | {"schoolYear": f"{int(y['schoolYear']) - 1}-{y['schoolYear'][2:]}"}
        | {"startDate": y["startDate"], "endDate": y["endDate"]}
        for school in schools
        for y in district.sessions
        if y["type"] == "schoolYear"
    ]
    _write(folder, f.CALENDARS, calendars)
    people = [
        {"personId": u.id, "firstName": u.given, "lastName": u.family}
        | {"studentNumber": u.identifier if u.role == "student" else ""}
        | {"staffNumber": u.identifier if u.role in STAFF_ROLES else ""}
        | {"homePhone": u.phone, "cellPhone": u.sms, "email": u.email}
        for u in users
    ]
    _write(folder, f.PEOPLE, people)
    roles = {u.id: u.role for u in users}
    links = {(student, contact): NAME_OF[roles[contact]] for student, contact, _ in district.links}
    flags = {name: "false" if name == "Relative" else "true" for name in NAME_OF.values()}
    relationships = [
        {"studentId": student, "contactId": contact, "name": name}
        | {"guardian": flags[name], "messenger": flags[name]}
        for (student, contact), name in links.items()
    ]
    _write(folder, f.RELATIONSHIPS, relationships)
    guardians: dict[str, list[str]] = defaultdict(list)
    for student, contact in (link for link in links if roles[link[1]] in GUARDIAN_ROLES):
        guardians[student].append(contact)
    households: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for student, theirs in guardians.items():
        households[tuple(sorted(theirs))].append(student)
    rows, members = [], []
    for key, students in households.items():
        household = "hh-" + sha1("\n".join(key).encode()).hexdigest()[:20]
        families = dict.fromkeys(district.users[g].family for g in key)
        rows.append({"householdId": household, "name": " / ".join(families) + " household"})
        members += [{"householdId": household, "personId": p} for p in (*key, *students)]
    _write(folder, f.HOUSEHOLDS, rows)
    _write(folder, f.HOUSEHOLD_MEMBERS, members)
    spans: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for seat in (seat for seat in district.seats if seat.role == "student"):
        spans[seat.user, f"{seat.klass.school}-{seat.klass.year}"].append((seat.begin, seat.end))
    enrollments = []
    for (student, calendar), dates in spans.items():
        (begins, ends), grades = zip(*dates, strict=True), district.users[student].grades
        enrollments.append({"personId": student, "calendarId": calendar, "grade": grades[0]})
        enrollments[-1] |= {"startDate": min(begins) if all(begins) else ""}
        enrollments[-1] |= {"endDate": max(ends) if all(ends) else ""}
    _write(folder, f.ENROLLMENTS, enrollments)
    assignments = [
        {"personId": u.id, "schoolId": org if org in schools else "", "title": u.role}
        for u in users
        if u.role in STAFF_ROLES
        for org in u.orgs
    ]
    _write(folder, f.DISTRICT_ASSIGNMENTS, assignments)
    return folder
