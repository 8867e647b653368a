"""Dirty addresses in a OneRoster users.csv are quarantined, not fatal: reported at their
users.csv line and column, imported as no address (a stored good one stays), and kept in
quarantined_addresses until an import brings that subject's addresses again. Agent entries that
name no user are skipped and reported; the rest of the bundle is imported."""

from pathlib import Path

from sqlalchemy import select

from shared.core.db import SessionFactory
from shared.models import Person, QuarantinedAddress
from tests.support.oneroster import (
    FIXTURES,
    PERSONS,
    UNKNOWN_AGENT,
    bundle,
    clean_tables,
    files,
    findings,
    first_files,
    fixture_text,
    person,
    read_tables,
    replaced,
    run,
    same_files,
)

ROSA = "rosa.diaz@example.org,6125550100,6125550101,"
WEI = "wei.chen@example.org,,6125550102,"
CARMEN = "Carmen,Lopez,,,,,6125550103,"


def _dirty_users() -> str:
    """Rosa's e-mail with a space, her sms with a bidi override, her phone with letters; Wei's
    e-mail a formula; Carmen's e-mail spanning two lines (so the lines after it move down)."""
    return replaced(
        fixture_text("v1p1", "users.csv"),
        (ROSA, "De Leon@example.org,\u202e6125550100,612-555-CALL,"),
        (WEI, "=cmd|' /C calc'!A0@example.org,,6125550102,"),
        (CARMEN, 'Carmen,Lopez,,,"carmen\nlopez@example.org",,6125550103,'),
    )


DIRTY_FINDINGS = [
    f"skipped: {UNKNOWN_AGENT}",
    "quarantined: users.csv:5: phone: 612-555-CALL: a phone number has no letters",
    "quarantined: users.csv:5: sms: \\u202e6125550100: "
    "holds the control or bidi-override character U+202E",
    "quarantined: users.csv:5: email: De Leon@example.org: "
    "not an e-mail address (name@domain.example, without spaces)",
    "quarantined: users.csv:6: email: =cmd|' /C calc'!A0@example.org: "
    "a spreadsheet would run it as a formula",
    "quarantined: users.csv:7: email: carmen\\u000alopez@example.org: "
    "holds the control or bidi-override character U+000A",
]
# person, channel, value, why, source
QUARANTINED = [
    ("u-p200", 1, "612-555-CALL", "a phone number has no letters", "users.csv:5, cpb import"),
    (
        "u-p200",
        3,
        "\\u202e6125550100",
        "holds the control or bidi-override character U+202E",
        "users.csv:5, cpb import",
    ),
    (
        "u-p200",
        4,
        "De Leon@example.org",
        "not an e-mail address (name@domain.example, without spaces)",
        "users.csv:5, cpb import",
    ),
    (
        "u-p201",
        4,
        "=cmd|' /C calc'!A0@example.org",
        "a spreadsheet would run it as a formula",
        "users.csv:6, cpb import",
    ),
    (
        "u-r300",
        4,
        "carmen\\u000alopez@example.org",
        "holds the control or bidi-override character U+000A",
        "users.csv:7, cpb import",
    ),
]
NO_ADDRESSES = {
    "u-p200": person("u-p200,Rosa,Diaz,,,,,,,"),
    "u-p201": person("u-p201,Wei,Chen,,,6125550102,,,,"),
}


def _quarantined(factory: SessionFactory) -> list[tuple[object, ...]]:
    with factory.begin() as session:
        rows = session.execute(
            select(
                Person.ext_id,
                QuarantinedAddress.channel,
                QuarantinedAddress.value,
                QuarantinedAddress.why,
                QuarantinedAddress.source,
            )
            .join(Person, Person.id == QuarantinedAddress.subject_id)
            .order_by(Person.ext_id, QuarantinedAddress.channel)
        )
        return [tuple(row) for row in rows]


def test_dirty_addresses_are_quarantined_and_the_rest_imported(
    session_factory: SessionFactory, tmp_path: Path
):
    report = run(session_factory, bundle(tmp_path / "b", files={"users.csv": _dirty_users()}))

    assert files(report) == first_files("v1p1")
    assert findings(report) == DIRTY_FINDINGS
    assert (report.quarantined, report.skipped) == (5, 1)
    assert report.preference_rows_created == 6
    persons = [NO_ADDRESSES.get(person[0], person) for person in PERSONS]
    assert read_tables(session_factory) == clean_tables("v1p1") | {"persons": persons}
    assert _quarantined(session_factory) == QUARANTINED


def test_a_stored_good_address_stays_when_a_later_import_brings_a_bad_one(
    session_factory: SessionFactory, tmp_path: Path
):
    run(session_factory, FIXTURES / "v1p1")

    report = run(session_factory, bundle(tmp_path / "b", files={"users.csv": _dirty_users()}))

    assert files(report) == same_files("v1p1")
    assert findings(report) == DIRTY_FINDINGS
    assert report.preference_rows_created == 0
    assert read_tables(session_factory) == clean_tables("v1p1")
    assert _quarantined(session_factory) == QUARANTINED

    clean_again = run(session_factory, FIXTURES / "v1p1")

    assert findings(clean_again) == [f"skipped: {UNKNOWN_AGENT}"]
    assert _quarantined(session_factory) == []
    assert read_tables(session_factory) == clean_tables("v1p1")


def test_a_good_address_replaces_a_stored_one_and_a_bad_one_leaves_it_to_the_next(
    session_factory: SessionFactory, tmp_path: Path
):
    """Rosa's new e-mail is good and replaces the stored one; then a bad one keeps it."""
    good = replaced(fixture_text("v1p1", "users.csv"), (ROSA, "rosa@diaz.example," + ROSA[22:]))
    bad = replaced(fixture_text("v1p1", "users.csv"), (ROSA, "rosa@@diaz.example," + ROSA[22:]))
    run(session_factory, FIXTURES / "v1p1")
    changed = run(session_factory, bundle(tmp_path / "good", files={"users.csv": good}))
    assert files(changed) == same_files("v1p1", people=(0, 1, 7, 0))

    report = run(session_factory, bundle(tmp_path / "bad", files={"users.csv": bad}))

    assert files(report) == same_files("v1p1")
    assert findings(report) == [
        f"skipped: {UNKNOWN_AGENT}",
        "quarantined: users.csv:5: email: rosa@@diaz.example: "
        "not an e-mail address (name@domain.example, without spaces)",
    ]
    rosa = person("u-p200,Rosa,Diaz,,,6125550101,,6125550100,rosa@diaz.example,")
    assert read_tables(session_factory)["persons"] == [PERSONS[0], rosa, *PERSONS[2:]]


def test_agent_entries_that_name_no_user_or_no_contact_are_skipped(
    session_factory: SessionFactory, tmp_path: Path
):
    """Beside the fixture's u-x999: Leo names a user not in the bundle and his teacher, and Wei
    names himself; every other link is imported."""
    users = replaced(
        fixture_text("v1p1", "users.csv"),
        (",u-p200,05,", ',"u-nobody,u-p200,u-t400",05,'),
        (
            "wei.chen@example.org,,6125550102,u-s101,",
            'wei.chen@example.org,,6125550102,"u-s101,u-p201",',
        ),
    )

    report = run(session_factory, bundle(tmp_path / "b", files={"users.csv": users}))

    assert files(report) == first_files("v1p1")
    assert findings(report) == [
        "skipped: users.csv:3: agentSourcedIds: 'u-nobody' names no user in the bundle; skipped",
        "skipped: users.csv:3: agentSourcedIds: 'u-t400' is not a parent, guardian or relative; "
        "skipped",
        f"skipped: {UNKNOWN_AGENT}",
        "skipped: users.csv:6: agentSourcedIds: 'u-p201' is this user; skipped",
    ]
    assert (report.quarantined, report.skipped) == (0, 4)
    assert read_tables(session_factory) == clean_tables("v1p1")
