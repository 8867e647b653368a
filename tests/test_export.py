"""The preference export and one person's preferences (the people API)."""

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import update

from shared.core.db import SessionFactory
from shared.core.errors import NotFound
from shared.core.vocabulary import REASONS
from shared.imports.native import import_bundle
from shared.models import Base, Person, preferences
from shared.people.export import HEADER, iter_preferences_csv, write_preferences_csv
from shared.people.view import person_preferences
from tests.support.district import District
from tests.support.driver import as_json

HEADER_LINE = ",".join(HEADER) + "\r\n"
OFF = "0,0,0,0,0,0,0,0"


def lines(*rows: str) -> str:
    return HEADER_LINE + "".join(f"{row}\r\n" for row in rows)


def test_header():
    assert HEADER_LINE == (
        "subjectType,subjectId,channel,address,emergency,attendance,behavior,staff,general,"
        "foodService,priority,teacher,guardianSet\r\n"
    )


def test_rows_in_code_point_order_on_every_database(session_factory: SessionFactory):
    """Households first, then people, by identifier in code-point order whatever the
    database's collation, then by channel order (not by channel name)."""
    with session_factory.begin() as session:
        district = District(session)
        for ext_id in ("b", "B", "a10", "a9", "Zed", "é", "e", "_x"):
            district.person(ext_id, email=f"{ext_id}@example.org")
        both = district.person("m", secondary_email="m2@example.org", home_phone="111")
        district.household("h2", phone="222")
        district.household("H1", phone="333")
        district.prefer(both, "secondaryEmail", ["emergency", "teacher"], guardian=["teacher"])
        district.finish()

    with session_factory.begin() as session:
        text = "".join(iter_preferences_csv(session, batch_rows=3))

    assert text == lines(
        f"household,H1,householdPhone,333,{OFF},",
        f"household,h2,householdPhone,222,{OFF},",
        f"person,B,email,B@example.org,{OFF},",
        f"person,Zed,email,Zed@example.org,{OFF},",
        f"person,_x,email,_x@example.org,{OFF},",
        f"person,a10,email,a10@example.org,{OFF},",
        f"person,a9,email,a9@example.org,{OFF},",
        f"person,b,email,b@example.org,{OFF},",
        f"person,e,email,e@example.org,{OFF},",
        f"person,m,homePhone,111,{OFF},",
        "person,m,secondaryEmail,m2@example.org,1,0,0,0,0,0,0,1,teacher",
        f"person,é,email,é@example.org,{OFF},",
    )


def test_a_channel_without_an_address_is_not_exported(session_factory: SessionFactory):
    with session_factory.begin() as session:
        district = District(session)
        gone = district.person("P1", cell_phone="555", email="p1@example.org")
        emptied = district.person("P2", work_phone="777")
        moved = district.household("H1", phone="888")
        district.prefer(gone, "cellPhone", ["emergency"], guardian=["emergency"])
        district.finish()
        gone.cell_phone = None
        emptied.work_phone = ""
        moved.phone = None

    out = io.StringIO()
    with session_factory.begin() as session:
        rows = write_preferences_csv(session, out)

    assert (rows, out.getvalue()) == (1, lines(f"person,P1,email,p1@example.org,{OFF},"))


def test_cells_are_quoted_as_the_csv_module_quotes_them(session_factory: SessionFactory):
    """An identifier or address with a comma, a quote or a line break is quoted, and its
    quotes doubled; one without is not, whatever else it holds."""
    names = ("a,b", 'say "hi"', "two\nlines", "x\ry", "plain 'one' ;|")
    with session_factory.begin() as session:
        district = District(session)
        for n, name in enumerate(names):
            district.person(name, email=f"{name}@example.org", home_phone=f"1{n},2")
        district.finish()

    with session_factory.begin() as session:
        text = "".join(iter_preferences_csv(session))

    expected = io.StringIO()
    writer = csv.writer(expected)
    writer.writerow(HEADER)
    for name in sorted(names):
        n = names.index(name)
        for channel, address in (("homePhone", f"1{n},2"), ("email", f"{name}@example.org")):
            writer.writerow(["person", name, channel, address, *[0] * len(REASONS), ""])
    assert text == expected.getvalue()


def test_guardian_set_lists_guardian_setters_in_reason_order(session_factory: SessionFactory):
    with session_factory.begin() as session:
        district = District(session)
        home = district.household("H1", phone="222")
        district.prefer(
            home, "householdPhone", ["teacher", "staff"], guardian=["teacher", "emergency"]
        )
        district.finish()

    with session_factory.begin() as session:
        assert "".join(iter_preferences_csv(session)) == lines(
            "household,H1,householdPhone,222,0,0,0,1,0,0,0,1,emergency|teacher"
        )
        session.execute(update(preferences).values(setter_teacher=17, setter_staff=-2))
        assert "".join(iter_preferences_csv(session)) == lines(
            "household,H1,householdPhone,222,0,0,0,1,0,0,0,1,emergency|staff"
        )


def test_an_empty_database_exports_the_header(session_factory: SessionFactory):
    out = io.StringIO()
    with session_factory.begin() as session:
        assert write_preferences_csv(session, out) == 0
    assert out.getvalue() == HEADER_LINE


def test_conformance_bundles_round_trip(session_factory: SessionFactory, conformance_dir: Path):
    """Importing each conformance bundle and exporting gives its preferences.csv back
    (as sorted rows: the bundles are not in export order), and the export is in order."""
    bundles = sorted(path for path in conformance_dir.glob("*/bundle") if path.is_dir())
    assert bundles, f"no bundles in {conformance_dir}"
    for bundle in bundles:
        with session_factory.begin() as session:  # each bundle is a district of its own
            for table in reversed(Base.metadata.sorted_tables):
                session.execute(table.delete())
        with session_factory.begin() as session:
            import_bundle(session, bundle)
            exported = "".join(iter_preferences_csv(session)).splitlines()

        expected = (bundle / "preferences.csv").read_text(encoding="utf-8").splitlines()
        assert exported[0] == expected[0], bundle
        assert sorted(exported[1:]) == sorted(expected[1:]), bundle
        assert exported[1:] == sorted(exported[1:], key=_export_order), bundle


def _export_order(line: str) -> tuple[str, str, int]:
    kind, ext_id, channel = line.split(",")[:3]
    channels = ("householdPhone", "homePhone", "workPhone", "cellPhone", "email")
    return kind, ext_id, (*channels, "secondaryEmail").index(channel)


# --- one person's preferences ----------------------------------------------------------------


def _all(value: object) -> dict[str, object]:
    return dict.fromkeys(REASONS, value)


def test_person_preferences(session_factory: SessionFactory):
    with session_factory.begin() as session:
        district = District(session)
        ann = district.person("P1", cell_phone="555", email="ann@example.org")
        home = district.household("H1", phone="222")
        old = district.household("H0")
        district.member(home, ann, start=date(2024, 9, 1))
        district.member(old, ann, end=date(2024, 8, 31))
        district.prefer(ann, "cellPhone", ["emergency", "staff"], guardian=["staff"])
        district.prefer(home, "householdPhone", ["attendance"])
        district.finish()
        session.execute(
            update(preferences)
            .where(preferences.c.subject_id == ann.id, preferences.c.channel == 3)
            .values(setter_teacher=12)
        )

    with session_factory.begin() as session:
        view = as_json(person_preferences(session, "P1"))

    cell_setters = _all("import") | {"staff": "guardian", "teacher": "batch:12"}
    never_set = {"values": _all(False), "setters": _all("default")}
    assert view == {
        "personId": "P1",
        "firstName": "F",
        "lastName": "LP1",
        "channels": {
            "homePhone": {"address": None, **never_set},
            "workPhone": {"address": None, **never_set},
            "cellPhone": {
                "address": "555",
                "values": _all(False) | {"emergency": True, "staff": True},
                "setters": cell_setters,
            },
            "email": {"address": "ann@example.org", **never_set},
            "secondaryEmail": {"address": None, **never_set},
        },
        "households": [
            {
                "householdId": "H0",
                "name": "Household H0",
                "phone": None,
                "startDate": None,
                "endDate": "2024-08-31",
                **never_set,
            },
            {
                "householdId": "H1",
                "name": "Household H1",
                "phone": "222",
                "startDate": "2024-09-01",
                "endDate": None,
                "values": _all(False) | {"attendance": True},
                "setters": _all("import"),
            },
        ],
    }


def test_person_preferences_of_an_unknown_person(session_factory: SessionFactory):
    with session_factory.begin() as session:
        District(session).person("P1")
        with pytest.raises(NotFound, match="no person 'P9'"):
            person_preferences(session, "P9")
        assert session.get(Person, 1) is not None
