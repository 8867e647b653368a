"""Parsing requests without a database: every problem is an InvalidRequest that names the field
and says what is wrong; what parses is exactly what was asked."""

import json
from datetime import date
from typing import Any

import pytest

from shared.batches.request import NO_SCOPE, BatchRequest, Scope, parse_batch_request
from shared.core.contract import MAX_ID, parse
from shared.core.errors import InvalidRequest
from shared.core.grids import NO_CHANGE, TEXT_REFUSAL
from shared.core.vocabulary import CHANNELS, REASONS, Mode
from shared.filters.criteria import MAX_PERSON_IDS, FilterRequest
from shared.people.edit import EDIT_TEXT_REFUSAL, HouseholdEdit, PersonEdit, parse_edit

EMAIL_ON = {"email": {"emergency": "on"}}
STUDENT = {"mode": "student", "scope": {"schoolYear": "2025-26"}, "changes": EMAIL_ON}
NOTHING = "nothing to change: set at least one reason of a channel to on or off"
CONTROL = "must not contain U+{:04X} (a control character, a bidi control or a lone surrogate)"


def refusal(parse_it: Any) -> tuple[str | None, str]:
    with pytest.raises(InvalidRequest) as refused:
        parse_it()
    return refused.value.field, refused.value.message


def test_a_batch_request_parses_to_what_was_asked():
    request = parse_batch_request(
        STUDENT | {"asOf": "2025-10-15", "filterId": 4, "keepGuardianChoices": True}
    )
    assert (request.mode, request.filter_id, request.as_of) == (Mode.STUDENT, 4, date(2025, 10, 15))
    assert request.target_scope == Scope(school_year="2025-26")
    assert (request.keeps_guardian_choices, request.is_dry_run) == (True, False)
    grid = request.grid
    assert list(grid) == list(CHANNELS)
    assert [list(options) for options in grid.values()] == [list(REASONS)] * len(CHANNELS)
    assert grid["email"]["emergency"] == "on"
    assert sum(option != NO_CHANGE for options in grid.values() for option in options.values()) == 1


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ([STUDENT], "body", "the request body must be a JSON object"),
        (STUDENT | {"dryrun": True}, "dryrun", "unknown field 'dryrun'"),
        (STUDENT | {"dry_run": True}, "dry_run", "unknown field 'dry_run'"),
        (
            STUDENT | {"mode": "everyone"},
            "mode",
            "must be one of studentContact, student, census; got 'everyone'",
        ),
        (STUDENT | {"filterId": "4"}, "filterId", "must be a whole number"),
        (STUDENT | {"filterId": True}, "filterId", "must be a whole number"),
        (STUDENT | {"filterId": 0}, "filterId", "must be at least 1"),
        (STUDENT | {"filterId": MAX_ID + 1}, "filterId", f"must be at most {MAX_ID}"),
        (STUDENT | {"filterId": 2**63}, "filterId", f"must be at most {MAX_ID}"),
        (
            STUDENT | {"asOf": "2025-13-01"},
            "asOf",
            "there is no such day as 2025-13-01: a month is 01 to 12",
        ),
        (STUDENT | {"asOf": 20251015}, "asOf", "must be a date as YYYY-MM-DD; got 20251015"),
        (STUDENT | {"dryRun": "yes"}, "dryRun", "must be true or false"),
        (STUDENT | {"scope": "2025-26"}, "scope", "must be an object"),
        (
            STUDENT | {"scope": {"year": "2025-26"}},
            "scope.year",
            "unknown field; one of schoolYear, schoolId, calendarId",
        ),
        (STUDENT | {"scope": {"schoolYear": ""}}, "scope.schoolYear", "must not be empty"),
        (
            STUDENT | {"scope": {"schoolYear": "2025-20266"}},
            "scope.schoolYear",
            "must be at most 9 characters",
        ),
        (
            STUDENT | {"scope": {"calendarId": "C" * 65}},
            "scope.calendarId",
            "must be at most 64 characters",
        ),
        (STUDENT | {"scope": {}}, "scope", NO_SCOPE),
        (STUDENT | {"scope": {"schoolId": "S1"}}, "scope.schoolYear", NO_SCOPE),
        (
            {"mode": "census", "changes": EMAIL_ON},
            "filterId",
            "Census/Staff mode needs a census filter",
        ),
        (
            {"mode": "census", "filterId": 2, "scope": {"schoolId": "S1"}, "changes": EMAIL_ON},
            "scope",
            "Census/Staff mode takes no scope: its census filter says who",
        ),
        (STUDENT | {"changes": None}, "changes", NOTHING),
        (STUDENT | {"changes": {}}, "changes", NOTHING),
        (STUDENT | {"changes": {"email": {"emergency": "noChange"}}}, "changes", NOTHING),
        (
            STUDENT | {"changes": {"fax": {}}},
            "changes.fax",
            "unknown channel; one of " + ", ".join(CHANNELS),
        ),
        (
            STUDENT | {"changes": {"email": {"lunch": "on"}}},
            "changes.email.lunch",
            "unknown reason; one of " + ", ".join(REASONS),
        ),
        (
            STUDENT | {"changes": {"email": {"emergency": "yes"}}},
            "changes.email.emergency",
            "unknown option 'yes'; one of noChange, on, off",
        ),
        (
            STUDENT | {"changes": {"email": []}},
            "changes.email",
            "must be an object of reason: option",
        ),
        (STUDENT | {"changes": []}, "changes", "must be an object of channel: {reason: option}"),
        (STUDENT | {"changes": {"cellPhoneSMS": {}}}, "changes.cellPhoneSMS", TEXT_REFUSAL),
        (
            STUDENT | {"changes": {"cellPhone": {"Text": "on"}}},
            "changes.cellPhone.Text",
            TEXT_REFUSAL,
        ),
    ],
)
def test_a_bad_batch_request_names_the_field(body: Any, field: str, message: str):
    assert refusal(lambda: parse_batch_request(body)) == (field, message)


@pytest.mark.parametrize("scope", [None, {}, {"schoolYear": None}])
def test_a_census_request_without_a_scope_is_fine(scope: Any):
    request = parse(
        BatchRequest, {"mode": "census", "filterId": 2, "scope": scope, "changes": EMAIL_ON}
    )
    assert (request.mode, request.target_scope) == (Mode.CENSUS, None)


@pytest.mark.parametrize(
    ("text", "code", "position"),
    [("a\x00b", 0, 2), ("\x1b[31m", 0x1B, 1), ("ab\x85", 0x85, 3), ("\u202eevil", 0x202E, 1)],
)
def test_text_never_holds_a_control_character(text: str, code: int, position: int):
    body = STUDENT | {"scope": {"schoolYear": text}}
    message = CONTROL.format(code) + f" at character {position}"
    assert refusal(lambda: parse_batch_request(body)) == ("scope.schoolYear", message)


def test_text_never_holds_a_lone_surrogate():
    body = json.loads('{"mode": "student", "scope": {"calendarId": "\\ud800"}}')
    assert refusal(lambda: parse_batch_request(body)) == (
        "scope.calendarId",
        "must be Unicode text; it holds a lone surrogate",
    )


def test_a_filter_request_keeps_the_criteria_given_without_repeats():
    request = parse(
        FilterRequest,
        {"name": "early", "kind": "student", "criteria": {"grades": ["01", "02", "01"]}},
    )
    assert (request.name, request.kind) == ("early", "student")
    assert request.stored_criteria() == {"grades": ["01", "02"]}
    census = parse(FilterRequest, {"name": "s", "kind": "census", "criteria": {"staff": None}})
    assert census.stored_criteria() == {}


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"name": " ", "kind": "census"}, "name", "a filter needs a name"),
        ({"name": "x" * 201, "kind": "census"}, "name", "must be at most 200 characters"),
        (
            {"name": "x", "kind": "everyone"},
            "kind",
            "must be one of student, census; got 'everyone'",
        ),
        (
            {"name": "x", "kind": "student", "criteria": {"staff": True}},
            "criteria.staff",
            "unknown criterion for a student filter; one of grades, schoolIds, personIds",
        ),
        (
            {"name": "x", "kind": "census", "criteria": {"grades": ["1"]}},
            "criteria.grades",
            "unknown criterion for a census filter; one of personIds, staff, assignmentSchoolIds, "
            "students, messengerContacts",
        ),
        (
            {"name": "x", "kind": "census", "criteria": {"ages": [1]}},
            "criteria.ages",
            "unknown criterion for a census filter; one of personIds, staff, assignmentSchoolIds, "
            "students, messengerContacts",
        ),
        ({"name": "x"}, "kind", "is required"),
        (
            {"name": "x", "kind": "student", "criteria": {"grades": "01"}},
            "criteria.grades",
            "must be a list",
        ),
        (
            {"name": "x", "kind": "student", "criteria": {"grades": [1]}},
            "criteria.grades.0",
            "must be a string",
        ),
        (
            {"name": "x", "kind": "student", "criteria": {"grades": [""]}},
            "criteria.grades.0",
            "must not be empty",
        ),
        (
            {"name": "x", "kind": "census", "criteria": {"staff": "yes"}},
            "criteria.staff",
            "must be true or false",
        ),
        (
            {
                "name": "x",
                "kind": "census",
                "criteria": {"personIds": ["P"] * (MAX_PERSON_IDS + 1)},
            },
            "criteria.personIds",
            f"must have at most {MAX_PERSON_IDS} items",
        ),
    ],
)
def test_a_bad_filter_request_names_the_field(body: Any, field: str, message: str):
    assert refusal(lambda: parse(FilterRequest, body)) == (field, message)


@pytest.mark.parametrize(
    ("body", "household", "field", "message"),
    [
        (
            {"setBy": {"a": 1}, "changes": EMAIL_ON},
            False,
            "setBy",
            "must be one of guardian, staff; got {'a': 1}",
        ),
        (
            {"setBy": ["staff"], "changes": EMAIL_ON},
            False,
            "setBy",
            "must be one of guardian, staff; got ['staff']",
        ),
        (
            {"setBy": "staff", "changes": {"cellPhone": {"sms": "on"}}},
            False,
            "changes.cellPhone.sms",
            EDIT_TEXT_REFUSAL,
        ),
        (
            {"setBy": "staff", "changes": {"householdPhone": {"general": "on"}}},
            False,
            "changes.householdPhone",
            "householdPhone belongs to a household; use PATCH "
            "/api/v1/households/<householdId>/preferences",
        ),
        (
            {"setBy": "staff", "changes": EMAIL_ON},
            True,
            "changes.email",
            "a household has only householdPhone; set a person's email with PATCH "
            "/api/v1/people/<personId>/preferences",
        ),
        (
            {"setBy": "guardian"},
            False,
            "changes",
            "nothing to change: set at least one reason to on or off",
        ),
    ],
)
def test_a_bad_preference_edit_names_the_field(
    body: Any, household: bool, field: str, message: str
):
    model = HouseholdEdit if household else PersonEdit
    assert refusal(lambda: parse_edit(parse(model, body))) == (field, message)


def test_a_preference_edit_keeps_only_the_reasons_set():
    body = {"setBy": "guardian", "changes": {"email": {"teacher": "off", "general": "noChange"}}}
    edit = parse_edit(parse(PersonEdit, body))
    assert (edit.set_by, edit.changes) == ("guardian", {"email": {"teacher": "off"}})
    household = parse(HouseholdEdit, {"setBy": "staff", "changes": {"householdPhone": {}}})
    assert household.changes is not None and household.changes.chosen() == {}
