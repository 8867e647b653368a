"""What `POST /api/v1/schedules` and `PATCH /api/v1/schedules/<id>` take (docs/schedules.md).

Parsing checks everything a schedule holds on its own, its template as a batch request would be
checked; the service checks what needs the database (the scope and filter exist, the user may
use them).
"""

from typing import Annotated, Final

from pydantic import Field

from shared.batches.request import BatchTemplate
from shared.core.contract import Body, Flag, PlainText
from shared.schedules.rules import RuleRequest

DEFAULT_CATCH_UP_HOURS: Final = 6.0
# At least a little longer than beat's tick (30 s): a shorter window would skip every run.
MIN_CATCH_UP_HOURS: Final = 0.01
MAX_CATCH_UP_HOURS: Final = 8760.0  # a year

Name = Annotated[str, PlainText(200, blank="must not be empty")]
CatchUpHours = Annotated[
    float,
    Field(
        strict=True,
        ge=MIN_CATCH_UP_HOURS,
        le=MAX_CATCH_UP_HOURS,
        description="How late a missed run may still run, in hours (fractions allowed)",
    ),
]


class ScheduleRequest(Body):
    """A new schedule: a name, a batch template, a rule, enabled (default true), and the
    catch-up window (default 6 hours)."""

    not_an_object = "the request body must be a JSON object"

    name: Name
    template: BatchTemplate
    rule: RuleRequest
    enabled: Flag = True
    catch_up_hours: CatchUpHours = DEFAULT_CATCH_UP_HOURS


class SchedulePatch(Body):
    """Any fields of a schedule to change; those left out stay as they are. A new rule, and
    resuming, apply to due times after the change only."""

    not_an_object = "the request body must be a JSON object"

    name: Name | None = None
    template: BatchTemplate | None = None
    rule: RuleRequest | None = None
    enabled: Flag | None = None
    catch_up_hours: CatchUpHours | None = None
