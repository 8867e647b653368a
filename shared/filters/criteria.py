"""Ad hoc filter criteria (SPEC section 6): structured JSON, checked here, never SQL."""

from typing import Any

from shared.core.errors import InvalidRequest

LIST_CRITERIA = {
    "student": ("grades", "schoolIds", "personIds"),
    "census": ("personIds", "assignmentSchoolIds"),
}
FLAG_CRITERIA = {
    "student": (),
    "census": ("staff", "students", "messengerContacts"),
}
KINDS = tuple(LIST_CRITERIA)


def parse_criteria(kind: Any, raw: Any) -> dict[str, Any]:
    if kind not in KINDS:
        raise InvalidRequest(f"must be one of {', '.join(KINDS)}; got {kind!r}", field="kind")
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InvalidRequest("must be an object", field="criteria")
    criteria: dict[str, Any] = {}
    for key, value in raw.items():
        where = f"criteria.{key}"
        if key in LIST_CRITERIA[kind]:
            if not isinstance(value, list) or not all(
                isinstance(item, str) and item for item in value
            ):
                raise InvalidRequest("must be a list of identifiers (strings)", field=where)
            criteria[key] = list(dict.fromkeys(value))
        elif key in FLAG_CRITERIA[kind]:
            if value is None:
                continue
            if not isinstance(value, bool):
                raise InvalidRequest("must be true or false", field=where)
            criteria[key] = value
        else:
            known = ", ".join(LIST_CRITERIA[kind] + FLAG_CRITERIA[kind])
            raise InvalidRequest(f"unknown criterion for a {kind} filter; one of {known}", where)
    return criteria
