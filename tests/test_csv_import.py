"""Native CSV import of bad input: every problem reported exactly, all at once in file and line
order, and nothing written when there is one, on a first import or a re-import; the transaction
can import again afterwards."""

from pathlib import Path

import pytest
from sqlalchemy import select

from shared.core.db import SessionFactory
from shared.core.errors import ImportFailed
from shared.imports.native import import_bundle
from shared.models import Person
from tests.support.csv_bundle import (
    BUNDLE,
    EXPORT,
    FIRST_IMPORT,
    export,
    import_ok,
    replacing,
    row_counts,
    with_rows,
    write_bundle,
)

BAD_INPUT: dict[str, tuple[dict[str, str | None], list[str]]] = {
    "bad date": (
        replacing("enrollments.csv", "P1,C1,03,2025-08-19,", "P1,C1,03,2025-13-19,"),
        ["enrollments.csv:2: startDate: '2025-13-19' is not a date (YYYY-MM-DD)"],
    ),
    "date in another format": (
        replacing("calendars.csv", "2026-06-04", "06/04/2026"),
        ["calendars.csv:2: endDate: '06/04/2026' is not a date (YYYY-MM-DD)"],
    ),
    "bad boolean": (
        replacing("relationships.csv", "Father,true,true", "Father,yes,TRUE"),
        [
            "relationships.csv:2: guardian: 'yes' is not true or false",
            "relationships.csv:2: messenger: 'TRUE' is not true or false",
        ],
    ),
    "bad school year": (
        replacing("calendars.csv", "North 2025-26,2025-26", "North 2025-26,2025-27"),
        ["calendars.csv:2: schoolYear: '2025-27' is not a school year like 2025-26"],
    ),
    "empty required cell": (
        replacing("people.csv", "P2,Bob,Lee", "P2,,Lee"),
        ["people.csv:3: firstName: required, but empty"],
    ),
    "too long": (
        with_rows("schools.csv", f"{'S' * 65},Far Away"),
        ["schools.csv:4: schoolId: longer than 64 characters"],
    ),
    "missing column": (
        {"households.csv": "householdId,name\nH1,Lee Household\nH2,Day Household\n"},
        ["households.csv:1: phone: missing column"],
    ),
    "unknown and repeated columns": (
        {"schools.csv": "schoolId,name,principal,name,\nS1,North,Kim,North,\nS2,South,Li,South,\n"},
        [
            "schools.csv:1: principal: unknown column",
            "schools.csv:1: name: the column appears twice",
            "schools.csv:1: (header): column 5 has no name",
        ],
    ),
    "wrong number of cells": (
        with_rows("households.csv", "H3,Third,5559003,extra"),
        ["households.csv:4: (row): 4 cells, but the header has 3"],
    ),
    "empty file": (
        {"schools.csv": ""},
        [
            "schools.csv:1: (header): the file is empty; a header row is required",
            "calendars.csv:2: schoolId: unknown school 'S1'",
            "calendars.csv:3: schoolId: unknown school 'S2'",
            "districtAssignments.csv:2: schoolId: unknown school 'S1'",
        ],
    ),
    "missing identifier column": (
        {"people.csv": BUNDLE["people.csv"].replace("personId,", "person,", 1)},
        [
            "people.csv:1: person: unknown column",
            "people.csv:1: personId: missing column",
        ],
    ),
    "duplicate identifier": (
        with_rows("schools.csv", "S1,North Again"),
        ["schools.csv:4: schoolId: duplicate of line 2 (same schoolId)"],
    ),
    "duplicate natural key": (
        with_rows("householdMembers.csv", "H1,P1,,2026-01-01"),
        [
            "householdMembers.csv:5: householdId: duplicate of line 2 "
            "(same householdId, personId, startDate)"
        ],
    ),
    "unknown references": (
        with_rows("enrollments.csv", "P9,C9,01,,")
        | with_rows("relationships.csv", "P1,P8,Aunt,false,true,,")
        | with_rows("districtAssignments.csv", "P2,S9,Aide,,"),
        [
            "enrollments.csv:4: personId: unknown person 'P9'",
            "enrollments.csv:4: calendarId: unknown calendar 'C9'",
            "relationships.csv:4: contactId: unknown person 'P8'",
            "districtAssignments.csv:4: schoolId: unknown school 'S9'",
        ],
    ),
    "bad preference cells": (
        with_rows(
            "preferences.csv",
            "staff,P1,homePhone,5550001,1,0,0,0,0,0,0,0,",
            "person,P1,textMessage,5550002,1,0,0,0,0,0,0,0,",
            "person,P1,pager,5550002,1,0,0,0,0,0,0,0,",
            "person,P2,workPhone,5550003,2,0,0,0,0,0,0,,",
            "person,P3,secondaryEmail,cy2@example.org,0,0,0,0,0,0,0,0,x",
        ),
        [
            "preferences.csv:5: subjectType: 'staff' is not person or household",
            "preferences.csv:6: channel: 'textMessage': text-message preferences cannot be "
            "imported",
            "preferences.csv:7: channel: unknown channel 'pager'",
            "preferences.csv:8: emergency: '2' is not 0 or 1",
            "preferences.csv:8: teacher: required, but empty",
            "preferences.csv:9: guardianSet: unknown reason 'x'",
        ],
    ),
    "bad guardian sets": (
        with_rows(
            "preferences.csv",
            "person,P1,homePhone,5550001,1,0,0,0,0,0,0,0,sms",
            "person,P1,email,ann@example.org,1,0,0,0,0,0,0,0,emergency||staff",
            "person,P2,workPhone,5550003,1,0,0,0,0,0,0,0,staff|emergency|staff",
        ),
        [
            "preferences.csv:5: guardianSet: 'sms': text-message preferences cannot be imported",
            "preferences.csv:6: guardianSet: an empty reason in 'emergency||staff'",
            "preferences.csv:7: guardianSet: 'staff' appears twice",
        ],
    ),
    "preference subjects and addresses": (
        with_rows(
            "preferences.csv",
            "person,P9,email,p9@example.org,1,0,0,0,0,0,0,0,",
            "household,H2,householdPhone,5559002,1,0,0,0,0,0,0,0,",
            "person,P2,cellPhone,5550003,1,0,0,0,0,0,0,0,",
            "person,P1,homePhone,5550009,1,0,0,0,0,0,0,0,",
            "person,P1,email,,1,0,0,0,0,0,0,0,",
            "person,P1,householdPhone,5559000,1,0,0,0,0,0,0,0,",
            "household,H1,homePhone,5559000,1,0,0,0,0,0,0,0,",
            "household,P1,householdPhone,5559000,1,0,0,0,0,0,0,0,",
        ),
        [
            "preferences.csv:5: subjectId: unknown person 'P9'",
            "preferences.csv:6: address: household 'H2' has no householdPhone",
            "preferences.csv:7: address: person 'P2' has no cellPhone",
            "preferences.csv:8: address: '5550009' does not match the homePhone of person 'P1', "
            "'5550001'",
            "preferences.csv:9: address: '' does not match the email of person 'P1', "
            "'ann@example.org'",
            "preferences.csv:10: channel: householdPhone is for households only",
            "preferences.csv:11: channel: a household has only householdPhone",
            "preferences.csv:12: subjectId: unknown household 'P1'",
        ],
    ),
    "duplicate preference row": (
        with_rows("preferences.csv", "person,P1,cellPhone,5550002,0,0,0,0,0,0,0,0,"),
        [
            "preferences.csv:5: subjectType: duplicate of line 3 "
            "(same subjectType, subjectId, channel)"
        ],
    ),
    "not a leap year": (
        replacing("enrollments.csv", "P1,C1,03,2025-08-19,", "P1,C1,03,2025-02-29,"),
        ["enrollments.csv:2: startDate: '2025-02-29' is not a date (YYYY-MM-DD)"],
    ),
    "duplicate person with other addresses": (
        # The first row of an identifier stands for it: P1's home phone is that of line 2.
        with_rows("people.csv", "P1,Ann,Lee,1001,,5550009,,,,"),
        ["people.csv:5: personId: duplicate of line 2 (same personId)"],
    ),
    "not UTF-8": (
        {},  # written as bytes by the test
        ["people.csv:3: (row): not valid UTF-8"],
    ),
}


@pytest.mark.parametrize("case", BAD_INPUT, ids=list(BAD_INPUT))
def test_bad_input_is_reported_exactly_and_nothing_is_written(
    session_factory: SessionFactory, tmp_path: Path, case: str
):
    changes, problems = BAD_INPUT[case]
    bundle = write_bundle(tmp_path, changes)
    if case == "not UTF-8":
        people = BUNDLE["people.csv"].encode().replace(b"Bob", b"B\xffb")
        (bundle / "people.csv").write_bytes(people)

    with session_factory.begin() as session:
        with pytest.raises(ImportFailed) as failed:
            import_bundle(session, bundle)
        assert failed.value.problems == problems
        assert set(row_counts(session).values()) == {0}


def test_every_problem_at_once_in_file_and_line_order(
    session_factory: SessionFactory, tmp_path: Path
):
    changes = (
        replacing("people.csv", "P2,Bob,Lee", "P2,,Lee")
        | replacing("schools.csv", "S2,South High", "S2,")
        | with_rows("enrollments.csv", "P1,C1,1st,tomorrow,")
        | with_rows("preferences.csv", "person,P1,homePhone,5550001,1,0,0,0,0,0,0,0,bogus")
    )

    with session_factory.begin() as session:
        with pytest.raises(ImportFailed) as failed:
            import_bundle(session, write_bundle(tmp_path, changes))
        assert set(row_counts(session).values()) == {0}

    assert failed.value.problems == [
        "schools.csv:3: name: required, but empty",
        "people.csv:3: firstName: required, but empty",
        "enrollments.csv:4: startDate: 'tomorrow' is not a date (YYYY-MM-DD)",
        "preferences.csv:5: guardianSet: unknown reason 'bogus'",
    ]
    assert str(failed.value) == "\n".join(failed.value.problems)


def test_a_bad_reimport_leaves_the_database_as_it_was(
    session_factory: SessionFactory, tmp_path: Path
):
    import_ok(session_factory, write_bundle(tmp_path / "good"))
    changes = replacing("people.csv", "P2,Bob,Lee", "P2,Robert,Lee") | with_rows(
        "enrollments.csv", "P1,C1,03,2025-02-30,"
    )

    with session_factory.begin() as session:
        counts_before = row_counts(session)
        with pytest.raises(ImportFailed) as failed:
            import_bundle(session, write_bundle(tmp_path / "bad", changes))
        assert failed.value.problems == [
            "enrollments.csv:4: startDate: '2025-02-30' is not a date (YYYY-MM-DD)"
        ]
        assert row_counts(session) == counts_before
        assert session.scalar(select(Person.first_name).where(Person.ext_id == "P2")) == "Bob"
        assert export(session) == EXPORT


def test_people_csv_is_required(session_factory: SessionFactory, tmp_path: Path):
    bundle = write_bundle(tmp_path, {"people.csv": None, "preferences.csv": None})
    with session_factory.begin() as session:
        with pytest.raises(ImportFailed) as failed:
            import_bundle(session, bundle)
    assert failed.value.problems[0] == (
        f"people.csv:0: (file): missing from {bundle}; every bundle needs it"
    )


def test_an_import_after_a_failed_one_in_the_same_transaction(
    session_factory: SessionFactory, tmp_path: Path
):
    bad = write_bundle(tmp_path / "bad", replacing("people.csv", "P2,Bob,Lee", "P2,,Lee"))
    with session_factory.begin() as session:
        with pytest.raises(ImportFailed):
            import_bundle(session, bad)
        assert import_bundle(session, write_bundle(tmp_path / "good")) == FIRST_IMPORT
