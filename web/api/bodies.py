"""The API's own bodies: its errors, its health, and the wrappers of lists and of an accepted
batch. The views inside them are the domain's (shared/)."""

from typing import Annotated, Literal

from pydantic import Field

from shared.access.audit import AuditEntryView
from shared.batches.views import BatchView
from shared.core.contract import Moment, View
from shared.core.vocabulary import BatchStatus
from shared.filters.service import FilterView

State = Literal["ok", "down"]


class ErrorDetail(View):
    code: str
    message: str
    field: str | None  # the field at fault, e.g. changes.cellPhone.sms


class Error(View):
    error: ErrorDetail


class Health(View):
    """What answers: the database and the broker (`ok` or `down`), how many Celery workers
    answered a ping, when beat last ticked (null: never, or the database is down), and how
    many messages wait in the broker's queue (null when the broker is down)."""

    database: State
    broker: State
    workers: Annotated[int, Field(ge=0)]
    beat_last_tick: Moment | None
    queue_depth: Annotated[int, Field(ge=0)] | None


class Liveness(View):
    """The web process answers (nothing else is checked)."""

    status: Literal["ok"]


class BatchAccepted(View):
    """The batch is queued: poll `url` for its progress and result."""

    id: int
    status: BatchStatus
    url: str


class BatchList(View):
    items: list[BatchView]
    page: int
    per_page: int
    total: int


class FilterList(View):
    items: list[FilterView]


class AuditList(View):
    items: list[AuditEntryView]
    page: int
    per_page: int
    total: int
