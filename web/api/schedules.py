"""Scheduled batches: list, make, read, change, delete; their runs; run one now or preview it."""

from typing import Annotated

from flask import url_for
from pydantic import RootModel, WithJsonSchema
from sqlalchemy.orm import Session

from shared.core.contract import one_of
from shared.models import Schedule
from shared.schedules import service
from shared.schedules.request import SchedulePatch, ScheduleRequest
from shared.schedules.views import RunView, ScheduleView, list_runs, schedule_view
from web import submission
from web.api.batches import ON_A_BATCH, accepted
from web.api.bodies import BatchAccepted
from web.api.routes import Link, api
from web.auth import db_user, require_principal
from web.queries import PageQuery, Query
from web.services import services

SCHEDULE_ID = {"scheduleId": "$response.body#/id"}
ON_A_SCHEDULE = (
    Link("GetSchedule", "get_schedule", SCHEDULE_ID),
    Link("UpdateSchedule", "update_schedule", SCHEDULE_ID),
    Link("ListScheduleRuns", "list_schedule_runs", SCHEDULE_ID),
    Link("RunSchedule", "run_schedule", SCHEDULE_ID),
    Link("DeleteSchedule", "delete_schedule", SCHEDULE_ID),
)


class ScheduleList(RootModel[list[ScheduleView]]):
    pass


class RunList(RootModel[list[RunView]]):
    """A page of the runs, newest due time first."""


class RunQuery(Query):
    dry_run: Annotated[
        str, one_of("true", "false"), WithJsonSchema({"type": "string", "enum": ["true", "false"]})
    ] = "false"


@api.get("/schedules", summary="The schedules the user may see, by name", response=ScheduleList)
def list_schedules() -> ScheduleList:
    web_services = services()
    with web_services.session_factory() as session:
        user = db_user(session, require_principal())
        schedules = service.list_schedules(session, user=user)
        zone, now = web_services.settings.zone, web_services.now()
        return ScheduleList([schedule_view(session, each, zone, now) for each in schedules])


@api.post(
    "/schedules",
    summary="Make a schedule: a batch template, run by a rule in the district's time zone",
    status=201,
    body=ScheduleRequest,
    response=ScheduleView,
    links=ON_A_SCHEDULE,
)
def create_schedule(body: ScheduleRequest) -> tuple[ScheduleView, dict[str, str]]:
    web_services = services()
    principal = require_principal()
    with web_services.session_factory.begin() as session:
        user = db_user(session, principal)
        schedule = service.create_schedule(session, body, user=user, now=web_services.now())
        view = _view(session, schedule)
    return view, {"Location": url_for("api.get_schedule", schedule_id=view.id)}


@api.get(
    "/schedules/<id:schedule_id>",
    summary="One schedule: its next three due times and its last run",
    response=ScheduleView,
)
def get_schedule(schedule_id: int) -> ScheduleView:
    with services().session_factory() as session:
        user = db_user(session, require_principal())
        return _view(session, service.visible_schedule(session, schedule_id, user))


@api.patch(
    "/schedules/<id:schedule_id>",
    summary="Change any fields of a schedule (future runs only); enabled false pauses it, true "
    "resumes it from its next due time",
    body=SchedulePatch,
    response=ScheduleView,
    links=ON_A_SCHEDULE[:4],
)
def update_schedule(schedule_id: int, body: SchedulePatch) -> ScheduleView:
    web_services = services()
    principal = require_principal()
    with web_services.session_factory.begin() as session:
        user = db_user(session, principal)
        schedule = service.update_schedule(
            session, schedule_id, body, user=user, now=web_services.now()
        )
        return _view(session, schedule)


@api.delete(
    "/schedules/<id:schedule_id>",
    summary="Delete a schedule; its runs and their batches stay",
    status=204,
    response=None,
)
def delete_schedule(schedule_id: int) -> None:
    web_services = services()
    principal = require_principal()
    with web_services.session_factory.begin() as session:
        user = db_user(session, principal)
        service.delete_schedule(session, schedule_id, user=user, now=web_services.now())


@api.get(
    "/schedules/<id:schedule_id>/runs",
    summary="A schedule's runs, newest due time first: ran (a batch was made), skipped (missed) "
    "or failed (no batch could be made, and why)",
    query=PageQuery,
    response=RunList,
)
def list_schedule_runs(schedule_id: int, query: PageQuery) -> RunList:
    web_services = services()
    with web_services.session_factory() as session:
        user = db_user(session, require_principal())
        schedule = service.visible_schedule(session, schedule_id, user)
        runs, _ = list_runs(
            session,
            schedule,
            web_services.settings.zone,
            page=query.page,
            per_page=query.per_page,
        )
        return RunList(runs)


@api.post(
    "/schedules/<id:schedule_id>/run",
    summary="Run a schedule now (its due time is this moment); with dryRun=true, a preview of "
    "what it would change if it ran now, which is no run of it",
    status=202,
    query=RunQuery,
    response=BatchAccepted,
    errors=(409,),
    links=ON_A_BATCH,
)
def run_schedule(schedule_id: int, query: RunQuery) -> tuple[BatchAccepted, dict[str, str]]:
    if query.dry_run == "true":
        return accepted(submission.preview_schedule(schedule_id, require_principal()))
    return accepted(submission.run_schedule(schedule_id, require_principal()))


def _view(session: Session, schedule: Schedule) -> ScheduleView:
    web_services = services()
    return schedule_view(session, schedule, web_services.settings.zone, web_services.now())
