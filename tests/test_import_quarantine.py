"""Dirty addresses in a native bundle: each kind quarantined (imported as no address, a good
stored address kept), reported `file:line: column: value: why`, shown for the person, and a
preferences.csv row on a quarantined address skipped; the rest of the bundle imported. On
SQLite and PostgreSQL."""

from pathlib import Path

import pytest
from sqlalchemy import select

from shared.core.db import SessionFactory
from shared.core.vocabulary import CHANNELS
from shared.models import DefaultGrid, Household, Person, QuarantinedAddress
from shared.people.view import household_preferences, person_preferences
from tests.support.csv_bundle import (
    BUNDLE,
    EXPORT,
    PEOPLE_HEADER,
    PREFERENCES_HEADER,
    export,
    import_ok,
    write_bundle,
)

NOT_EMAIL = "not an e-mail address (name@domain.example, without spaces)"
NOT_PHONE = "not a phone number (digits, spaces and ()-. with an optional leading +)"
FORMULA = "a spreadsheet would run it as a formula"
# (cell as written in people.csv, the column, why it is quarantined)
DIRTY = [
    ("De Leon@example.org", "email", NOT_EMAIL),
    ("no-at-sign.example.org", "email", NOT_EMAIL),
    ("two@@example.org", "email", NOT_EMAIL),
    ("user@localhost", "secondaryEmail", NOT_EMAIL),
    ("=HYPERLINK(1)@x.org", "email", FORMULA),
    ("@evil@example.org", "secondaryEmail", FORMULA),
    ("-2+3@example.org", "email", FORMULA),
    ("ann\u202e@example.org", "email", "holds the control or bidi-override character U+202E"),
    ("a\u0007b@example.org", "email", "holds the control or bidi-override character U+0007"),
    ("555-CALL-NOW", "homePhone", "a phone number has no letters"),
    ("555 0101 x12", "cellPhone", "a phone number has no letters"),
    ("+1 (555) 0101#", "workPhone", NOT_PHONE),
    ("=1+1", "cellPhone", NOT_PHONE),
    ("()-.", "homePhone", NOT_PHONE),
    ("5" * 33, "workPhone", "longer than 32 characters"),
    ("555\u200b0101", "homePhone", "holds the control or bidi-override character U+200B"),
]
GOOD = ["+1 (555) 010-1234", "555.010.1234", "-555 0101", "o'neil+tag@mail.example.org"]


def people_file(rows: list[str]) -> str:
    return PEOPLE_HEADER + "\n" + "".join(row + "\n" for row in rows)


def only_people(rows: list[str]) -> dict[str, str | None]:
    return {name: None for name in BUNDLE} | {"people.csv": people_file(rows)}


def row_with(person: str, column: str, cell: str) -> str:
    cells = {name: "" for name in PEOPLE_HEADER.split(",")}
    cells.update(personId=person, firstName="Q", lastName="Person", **{column: cell})
    quoted = [
        '"' + c.replace('"', '""') + '"' if ("," in c or '"' in c) else c for c in cells.values()
    ]
    return ",".join(quoted)


@pytest.mark.parametrize("cell, column, why", DIRTY, ids=[d[0] for d in DIRTY])
def test_each_kind_of_dirty_address_is_quarantined_and_the_rest_imported(
    session_factory: SessionFactory, tmp_path: Path, cell: str, column: str, why: str
):
    people = only_people(
        [row_with("Q1", column, cell), "Q2,Good,Person,,,5550101,,,good@example.org,"]
    )
    summary = import_ok(session_factory, write_bundle(tmp_path, people))

    shown = "".join(f"\\u{ord(c):04x}" if c in "\u202e\u0007\u200b" else c for c in cell)
    assert [str(f) for f in summary.findings] == [f"people.csv:2: {column}: {shown}: {why}"]
    assert summary.people.inserted == 2
    with session_factory.begin() as session:
        q1 = session.scalars(select(Person).where(Person.ext_id == "Q1")).one()
        assert {c: getattr(q1, c) for c in ("home_phone", "work_phone", "cell_phone")} == {
            "home_phone": None,
            "work_phone": None,
            "cell_phone": None,
        }
        assert (q1.email, q1.secondary_email) == (None, None)
        held = person_preferences(session, "Q1").channels[column].quarantined
        assert held is not None
        assert (held.value, held.why, held.source) == (shown, why, "people.csv:2, cpb import")


def test_good_addresses_of_every_shape_pass(session_factory: SessionFactory, tmp_path: Path):
    people = only_people(
        [
            row_with("G1", "homePhone", GOOD[0]),
            row_with("G2", "workPhone", GOOD[1]),
            row_with("G3", "cellPhone", GOOD[2]),
            row_with("G4", "email", GOOD[3]),
        ]
    )
    summary = import_ok(session_factory, write_bundle(tmp_path, people))
    assert summary.findings == ()
    with session_factory.begin() as session:
        stored = session.execute(
            select(Person.home_phone, Person.work_phone, Person.cell_phone, Person.email)
            .where(Person.ext_id.in_(["G1", "G2", "G3", "G4"]))
            .order_by(Person.ext_id)
        ).all()
    assert stored == [
        (GOOD[0], None, None, None),
        (None, GOOD[1], None, None),
        (None, None, GOOD[2], None),
        (None, None, None, GOOD[3]),
    ]


def test_a_quarantined_address_never_replaces_a_stored_one_and_its_preference_row_is_skipped(
    session_factory: SessionFactory, tmp_path: Path
):
    import_ok(session_factory, write_bundle(tmp_path / "first"))
    dirty = {
        "people.csv": people_file(
            [
                "P1,Ann,Lee,1001,,5550001,,555-CELL,ann@example.org,",
                "P2,Bob,Lee,,,,5550003,,,",
                "P3,Cy,Day,,E7,,,,cy at example.org,cy2@example.org",
            ]
        ),
        "households.csv": "householdId,name,phone\nH1,Lee Household,=5559000\nH2,Day Household,\n",
    }
    summary = import_ok(session_factory, write_bundle(tmp_path / "dirty", dirty))

    assert [str(f) for f in summary.findings] == [
        "people.csv:2: cellPhone: 555-CELL: a phone number has no letters",
        f"people.csv:4: email: cy at example.org: {NOT_EMAIL}",
        f"households.csv:2: phone: =5559000: {NOT_PHONE}",
        "preferences.csv:2: address: 5559000: the householdPhone of household 'H1' was "
        "quarantined (households.csv:2); row skipped",
        "preferences.csv:3: address: 5550002: the cellPhone of person 'P1' was "
        "quarantined (people.csv:2); row skipped",
        "preferences.csv:4: address: cy@example.org: the email of person 'P3' was "
        "quarantined (people.csv:4); row skipped",
    ]
    assert (summary.people.updated, summary.people.unchanged) == (0, 3)
    assert (summary.households.updated, summary.preferences.unchanged) == (0, 0)
    with session_factory.begin() as session:
        assert export(session) == EXPORT  # the stored addresses and their values stay
        held = {
            (row.subject_id, CHANNELS[row.channel]): row.value
            for row in session.scalars(select(QuarantinedAddress))
        }
        ids = dict(session.execute(select(Person.ext_id, Person.id)).all())
        h1 = session.scalar(select(Household.id).where(Household.ext_id == "H1"))
        assert held == {
            (ids["P1"], "cellPhone"): "555-CELL",
            (ids["P3"], "email"): "cy at example.org",
            (h1, "householdPhone"): "=5559000",
        }
        quarantined = household_preferences(session, "H1").quarantined
        assert quarantined is not None and quarantined.why == NOT_PHONE

    # Fixed at the source: the next import clears the quarantine.
    import_ok(session_factory, write_bundle(tmp_path / "fixed"))
    with session_factory.begin() as session:
        assert session.scalars(select(QuarantinedAddress)).all() == []


def test_new_addresses_get_the_default_grid_with_the_import_as_setter(
    session_factory: SessionFactory, tmp_path: Path
):
    with session_factory.begin() as session:
        session.add(DefaultGrid(channel=CHANNELS.index("email"), mask=0b11))
        session.add(DefaultGrid(channel=CHANNELS.index("householdPhone"), mask=0b1))
    summary = import_ok(session_factory, write_bundle(tmp_path))
    assert summary.preference_rows_created == 7
    with session_factory.begin() as session:
        lines = export(session).split("\r\n")
        p3 = person_preferences(session, "P1").channels["email"]
        assert (p3.values.emergency, p3.values.attendance, p3.values.behavior) == (
            True,
            True,
            False,
        )
        assert (p3.setters.emergency, p3.setters.behavior) == ("import", "default")
    # preferences.csv wins where it gives the values (H1, P1's cellPhone, P3's email)
    assert lines[1] == "household,H1,householdPhone,5559000,1,1,0,0,0,0,1,0,emergency"
    assert lines[4] == "person,P1,email,ann@example.org,1,1,0,0,0,0,0,0,"
    assert lines[6] == "person,P3,email,cy@example.org,0,0,0,0,0,0,0,0,"
    assert lines[7] == "person,P3,secondaryEmail,cy2@example.org,0,0,0,0,0,0,0,0,"
    assert PREFERENCES_HEADER == lines[0]
