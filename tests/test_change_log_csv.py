"""The change log download (`changes.csv`): one row per value a batch changed,
on SQLite and PostgreSQL, through the service and through the API."""

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from shared.batches.change_log import HEADER, iter_changes_csv
from shared.core.db import SessionFactory
from shared.core.errors import NotFound
from shared.models import change_log, preferences
from tests.support.district import District
from tests.support.driver import run_batch, run_undo, submit
from tests.support.web import add_token, add_user, bearer, error_of, make_app

HEADER_LINE = "subjectType,subjectId,channel,reason,before,after,setterBefore\r\n"

# As of the driver's day (2025-10-15): the contacts P1 (staff), g and g2 of the two students
# of CAL-A. P1 and s1 live in h1, g in H0 (identifiers whose code-point order differs from a
# case-insensitive one). g and g2 set their own email attendance.
BATCH = {
    "mode": "studentContact",
    "scope": {"calendarId": "CAL-A"},
    "changes": {
        "email": {"emergency": "on", "attendance": "off", "staff": "on"},
        "householdPhone": {"emergency": "on", "staff": "on"},
    },
}
# P1's email emergency is already on; staff is set only through P1; g2's emergency is on.
BATCH_ROWS = [
    "household,H0,householdPhone,emergency,0,1,default",
    "household,h1,householdPhone,emergency,0,1,default",
    "household,h1,householdPhone,staff,0,1,default",
    "person,P1,email,staff,0,1,import",
    "person,g,email,emergency,0,1,import",
    "person,g,email,attendance,1,0,guardian",
    "person,g2,email,attendance,1,0,guardian",
]


@pytest.fixture
def district(session_factory: SessionFactory) -> SessionFactory:
    with session_factory.begin() as session:
        d = District(session)
        calendar = d.calendar("CAL-A", d.school("A"))
        s1, s2 = d.person("s1"), d.person("s2")
        d.enroll(s1, calendar)
        d.enroll(s2, calendar)
        staff = d.person("P1", email="p1@x", cell_phone="10")
        d.assign(staff)
        g = d.person("g", email="g@x")
        g2 = d.person("g2", email="g2@x")
        d.relate(s1, staff)
        d.relate(s2, g)
        d.relate(s1, g2)
        h1 = d.household("h1", phone="100")
        d.member(h1, staff)
        d.member(h1, s1)
        h0 = d.household("H0", phone="90")
        d.member(h0, g)
        d.prefer(staff, "email", on=["emergency"])
        d.prefer(g, "email", on=["attendance"], guardian=("attendance",))
        d.prefer(g2, "email", on=["emergency", "attendance"], guardian=("attendance",))
        d.finish()
    return session_factory


def csv_of(factory: SessionFactory, batch_id: int, **kwargs: Any) -> str:
    with factory() as session:
        return "".join(iter_changes_csv(session, batch_id, **kwargs))


def all_preferences(factory: SessionFactory) -> list[tuple[Any, ...]]:
    with factory() as session:
        rows = session.execute(select(preferences).order_by(*preferences.primary_key))
        return [tuple(row) for row in rows]


def lines(*rows: str) -> str:
    return HEADER_LINE + "".join(f"{row}\r\n" for row in rows)


def counted(view: dict[str, Any], key: str = "counts") -> int:
    return sum(n or 0 for row in view["result"][key].values() for n in row.values())


def test_header():
    assert ",".join(HEADER) + "\r\n" == HEADER_LINE


def test_a_dry_run_lists_what_would_change_and_applying_lists_the_same(district):
    before = all_preferences(district)
    preview = run_batch(district, {**BATCH, "dryRun": True})
    after_preview = all_preferences(district)
    applied = run_batch(district, BATCH)

    assert (preview["id"], applied["id"]) == (1, 2)
    assert csv_of(district, 1) == lines(*BATCH_ROWS)
    assert csv_of(district, 2, batch_rows=1) == lines(*BATCH_ROWS)
    assert counted(preview) == counted(applied) == len(BATCH_ROWS)
    assert after_preview == before != all_preferences(district)


def test_setter_before_names_the_batch_that_set_the_value(district):
    run_batch(district, BATCH)
    again = run_batch(district, BATCH)
    later = run_batch(district, {**BATCH, "changes": {"email": {"emergency": "off"}}})

    assert counted(again) == 0
    assert csv_of(district, again["id"]) == HEADER_LINE
    assert csv_of(district, later["id"]) == lines(
        "person,P1,email,emergency,1,0,import",
        "person,g,email,emergency,1,0,batch:1",
        "person,g2,email,emergency,1,0,import",
    )
    assert counted(later) == 3


def test_values_kept_for_a_guardian_are_not_changes(district):
    view = run_batch(district, {**BATCH, "keepGuardianChoices": True})

    # g's and g2's email attendance stay on; g2's email row changed nothing else but is logged
    assert counted(view, "kept") == 2
    with district() as session:
        logged = session.execute(
            select(change_log.c.subject_id, change_log.c.changed_mask, change_log.c.kept_mask)
            .where(change_log.c.channel == 4)
            .order_by(change_log.c.subject_id)
        ).all()
    assert [(changed, kept) for _, changed, kept in logged] == [(8, 0), (1, 2), (0, 2)]
    assert csv_of(district, view["id"]) == lines(
        "household,H0,householdPhone,emergency,0,1,default",
        "household,h1,householdPhone,emergency,0,1,default",
        "household,h1,householdPhone,staff,0,1,default",
        "person,P1,email,staff,0,1,import",
        "person,g,email,emergency,0,1,import",
    )
    assert counted(view) == 5


def test_an_unknown_batch_is_not_found_before_any_line(district):
    with district() as session, pytest.raises(NotFound, match="no batch 7"):
        iter_changes_csv(session, 7)  # not iterated: the check comes at the call


# --- the API -------------------------------------------------------------------------------


def test_the_api_streams_the_change_log(district: SessionFactory, tmp_path: Path):
    add_user(district, "admin", "district_admin")
    add_user(district, "vera", "viewer")
    client = make_app(district, tmp_path).test_client()
    view = run_batch(district, BATCH)

    for username in ("admin", "vera"):  # reading it is reading: a viewer may
        response = client.get(
            f"/api/v1/batches/{view['id']}/changes.csv",
            headers=bearer(add_token(district, username)),
        )
        assert response.status_code == 200
        assert response.is_streamed is True
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert response.headers["Content-Disposition"] == (
            'attachment; filename="batch-1-changes.csv"'
        )
        assert response.get_data(as_text=True) == lines(*BATCH_ROWS)


def test_the_api_refuses_an_unknown_batch_and_anonymous_callers(
    district: SessionFactory, tmp_path: Path
):
    add_user(district, "admin", "district_admin")
    client = make_app(district, tmp_path).test_client()
    run_batch(district, BATCH)

    unknown = client.get(
        "/api/v1/batches/99/changes.csv", headers=bearer(add_token(district, "admin"))
    )
    anonymous = client.get("/api/v1/batches/1/changes.csv")

    assert (unknown.status_code, error_of(unknown)) == (
        404,
        {"code": "not_found", "message": "no batch 99", "field": None},
    )
    assert (anonymous.status_code, error_of(anonymous)) == (
        401,
        {
            "code": "unauthorized",
            "message": "sign in, or send Authorization: Bearer <token>",
            "field": None,
        },
    )


def test_the_result_as_csv_for_a_batch_its_undo_and_one_still_queued(
    district: SessionFactory, tmp_path: Path
):
    add_user(district, "vera", "viewer")
    client = make_app(district, tmp_path).test_client()
    headers = bearer(add_token(district, "vera"))
    view = run_batch(district, {**BATCH, "keepGuardianChoices": True})
    undo = run_undo(district, view["id"])

    response = client.get(f"/api/v1/batches/{view['id']}/result.csv", headers=headers)
    assert response.headers["Content-Disposition"] == 'attachment; filename="batch-1-result.csv"'
    assert response.get_data(as_text=True) == (
        "channel,reason,option,changed,kept\n"
        "householdPhone,emergency,on,2,0\n"
        "householdPhone,staff,on,1,0\n"
        "email,emergency,on,1,0\n"
        "email,attendance,off,0,2\n"
        "email,staff,on,1,0\n"
    )
    restored = client.get(f"/api/v1/batches/{undo['id']}/result.csv", headers=headers)
    assert restored.get_data(as_text=True) == (
        "channel,reason,restored,conflicts\n"
        "householdPhone,emergency,2,0\n"
        "householdPhone,staff,1,0\n"
        "email,emergency,1,0\n"
        "email,attendance,0,0\n"
        "email,staff,1,0\n"
    )
    with district.begin() as session:
        queued = submit(session, BATCH).batch.id
    refused = client.get(f"/api/v1/batches/{queued}/result.csv", headers=headers)
    assert (refused.status_code, error_of(refused)) == (
        409,
        {"code": "conflict", "message": "batch 3 has no result yet: it is queued", "field": None},
    )
