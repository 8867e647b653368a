"""schemathesis hooks for the API fuzz tests: `st run` loads this module through
SCHEMATHESIS_HOOKS (tests/support/fuzz.py sets it); the tests import `OtherSchool` and
`reached_objects` from it as well.

`real_scopes` puts the run's real scopes (CPB_FUZZ_SCOPES, a JSON list) into the bodies of
POST /batches. `no_other_schools_object` fails any 2xx answer that reaches an object of another
school. It is
skipped unless CPB_FUZZ_OTHER_SCHOOL holds the JSON of an `OtherSchool` (the school-admin run):
the district-admin runs load the same module, and reaching everything is their right.

It judges the request the server received (URL and body as sent), not the generated case, so that
what the router would read as the same id (a percent-escaped or non-ASCII digit) counts too.
"""

import functools
import json
import os
import re
from dataclasses import asdict, dataclass
from typing import Any, Final
from urllib.parse import unquote, urlsplit

import schemathesis
from hypothesis import strategies

OTHER_SCHOOL_ENV: Final = "CPB_FUZZ_OTHER_SCHOOL"
SCOPES_ENV: Final = "CPB_FUZZ_SCOPES"
BATCHES: Final = ("POST", "/batches")  # the operation whose bodies get real scopes
API_PREFIX: Final = "/api/v1"

# The paths under /api/v1 that name one object; the kind is the first word of a finding.
OBJECT_PATHS: Final = (
    ("batch", re.compile(r"/batches/([^/]+)(?:/[^/]*)?")),
    ("filter", re.compile(r"/filters/([^/]+)(?:/[^/]*)?")),
    ("person", re.compile(r"/people/([^/]+)/preferences")),
    ("household", re.compile(r"/households/([^/]+)/preferences")),
)


@dataclass(frozen=True)
class OtherSchool:
    """The objects a school admin must not reach: by id (batches, filters) or by the district's
    id (people, households, schools, calendars)."""

    batches: frozenset[int]
    filters: frozenset[int]
    people: frozenset[str]
    households: frozenset[str]
    schools: frozenset[str]
    calendars: frozenset[str]

    def to_json(self) -> str:
        return json.dumps({name: sorted(values) for name, values in asdict(self).items()})

    @classmethod
    def from_json(cls, text: str) -> "OtherSchool":
        data = json.loads(text)
        return cls(
            batches=frozenset(int(value) for value in data["batches"]),
            filters=frozenset(int(value) for value in data["filters"]),
            people=frozenset(data["people"]),
            households=frozenset(data["households"]),
            schools=frozenset(data["schools"]),
            calendars=frozenset(data["calendars"]),
        )


def reached_objects(
    other: OtherSchool, method: str, path: str, body: Any, answer: Any
) -> list[str]:
    """What of `other` a request reached, had it been answered 2xx, each as "kind id (how)":
    `path` is the request's path under /api/v1, percent-decoded; `body` the JSON sent; `answer`
    the JSON answered (or None)."""
    by_kind: dict[str, frozenset[Any]] = {
        "batch": other.batches,
        "filter": other.filters,
        "person": other.people,
        "household": other.households,
    }
    reached: list[str] = []
    if method == "OPTIONS":
        return reached  # it describes the route, not the object (web/access.py lets it through)
    for kind, pattern in OBJECT_PATHS:
        match = pattern.fullmatch(path)
        if match is None:
            continue
        named = match.group(1)
        key = _as_int(named) if kind in ("batch", "filter") else named
        if key in by_kind[kind]:
            reached.append(f"{kind} {named}")
    if method == "POST" and path == "/batches":
        reached += _batch_request_reach(other, body)
    if path in ("/batches", "/filters"):
        kind = "batch" if path == "/batches" else "filter"
        reached += _listed(kind, by_kind[kind], method, answer)
    return reached


def _batch_request_reach(other: OtherSchool, body: Any) -> list[str]:
    """A school admin's batch must name one of their schools or calendars, not census mode, and
    only their own filter; an answer that lets anything else through reached other schools."""
    if not isinstance(body, dict):
        return []
    given = body.get("scope")
    scope: dict[str, Any] = given if isinstance(given, dict) else {}
    school, calendar = scope.get("schoolId"), scope.get("calendarId")
    reached: list[str] = []
    if _is_in(school, other.schools):
        reached.append(f"school {school} (the batch's scope)")
    if _is_in(calendar, other.calendars):
        reached.append(f"calendar {calendar} (the batch's scope)")
    if not (_is_named(school) or _is_named(calendar)):
        reached.append("district (the batch's scope names no school or calendar)")
    if body.get("mode") == "census":
        reached.append("census (the batch's mode)")
    if _as_int(body.get("filterId")) in other.filters:
        reached.append(f"filter {body['filterId']} (the batch's filter)")
    return reached


def _listed(kind: str, ids: frozenset[Any], method: str, answer: Any) -> list[str]:
    """The id answered to a POST (an idempotency key answered with another user's batch), or
    the items of a list."""
    if not isinstance(answer, dict):
        return []
    items = answer.get("items")
    if method == "POST":
        found = [answer.get("id")]
    elif isinstance(items, list):
        found = [item.get("id") for item in items if isinstance(item, dict)]
    else:
        found = []
    return [f"{kind} {value} (in the answer)" for value in found if _as_int(value) in ids]


def api_path(url: str) -> str | None:
    """The path of a request URL under /api/v1, percent-decoded as the router reads it."""
    path = unquote(urlsplit(url).path)
    return path[len(API_PREFIX) :] if path.startswith(API_PREFIX + "/") else None


def _as_int(value: Any) -> int | None:
    """An id as the router reads it: Werkzeug's `int` converter matches `\\d+`, decimal digits of
    any script, which `int()` reads as Python does."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdecimal():
        try:
            return int(value)
        except ValueError:  # more digits than Python converts (4,300): no id of ours
            return None
    return None


def _is_named(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def _is_in(value: Any, ids: frozenset[str]) -> bool:
    """Whether a value from a generated body (of any JSON type) is one of `ids`."""
    return isinstance(value, str) and value in ids


@functools.cache
def _scopes() -> tuple[dict[str, Any], ...]:
    text = os.environ.get(SCOPES_ENV, "")
    return tuple(json.loads(text)) if text else ()


@schemathesis.hook("flatmap_body")
def real_scopes(context: Any, body: Any) -> Any:
    """Some of the batch bodies (about a third) get one of the real scopes instead of their own,
    and every one in the school-admin run, which is there to name the other school: a generated
    body seldom has a scope object at all (`scope` may be left out), and a fuzz dictionary only
    fills in a field that is there. schemathesis validates the body again afterwards, so a case
    stays rightly labelled positive or negative."""
    scopes = _scopes()
    operation = context.operation
    submits = operation is not None and (operation.method.upper(), operation.path) == BATCHES
    if not scopes or not submits or not isinstance(body, dict):
        return strategies.just(body)
    real = strategies.sampled_from(scopes).map(lambda scope: {**body, "scope": scope})
    return real if _other_school() is not None else strategies.one_of(strategies.just(body), real)


@functools.cache
def _other_school() -> OtherSchool | None:
    text = os.environ.get(OTHER_SCHOOL_ENV, "")
    return OtherSchool.from_json(text) if text else None


def _sent_json(body: bytes | str | None) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


@schemathesis.check
def no_other_schools_object(ctx: Any, response: Any, case: Any) -> bool | None:
    """A school admin is refused (403, or 404) whatever belongs to another school. Returns True
    where it does not apply (schemathesis then counts it as skipped, not passed), None where it
    passed."""
    other = _other_school()
    path = api_path(response.request.url)
    if other is None or path is None or not 200 <= response.status_code < 300:
        return True
    answer = _sent_json(response.content)
    body = _sent_json(response.request.body)
    method = str(response.request.method).upper()
    reached = reached_objects(other, method, path, body, answer)
    if reached:
        raise AssertionError(
            f"{response.status_code} to a school admin for another school's object: "
            + "; ".join(reached)
        )
    return None
