"""Scheduled batches (docs/schedules.md): the list, a schedule's page with its runs and its
buttons (run now, preview, pause or resume, delete), and the form that makes or edits one.

The form follows the wizard: the batch template has the wizard's controls, a refused form is
shown again with the error next to its field (400, or 403 for a refusal, which is audited), and
nothing is saved. The buttons follow the web flow: the service, commit, flash, redirect.
"""

from collections.abc import Mapping
from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from shared.batches import catalog
from shared.core.contract import parse
from shared.core.errors import Conflict, Forbidden, InvalidRequest
from shared.models import Filter, Schedule
from shared.schedules import service
from shared.schedules.request import SchedulePatch, ScheduleRequest
from shared.schedules.views import ScheduleView, list_runs, schedule_view
from web import submission
from web.access import record_refusal
from web.auth import db_user, require_principal
from web.labels import (
    CHANNEL_LABELS,
    MODE_LABELS,
    MONTH_NAMES,
    OPTION_LABELS,
    REASON_LABELS,
    RUN_STATUS_LABELS,
    format_local,
)
from web.pages.wizard import template_choices
from web.params import page_count
from web.queries import PER_PAGE, PageQuery, query_of
from web.schedule_form import (
    RULE_KINDS,
    START_OF_YEAR,
    control_of,
    form_of,
    from_wizard,
    label_of,
    new_form,
    schedule_payload,
    start_of_year_form,
)
from web.services import services
from web.wizard_words import plain

PageAnswer = Response | str | tuple[str, int]

bp = Blueprint("schedules", __name__)


@bp.app_template_filter("local_time")
def local_time(moment: datetime) -> str:
    """A moment on the district's wall clock: `Sat 1 Aug 2026, 02:00 CDT`."""
    return format_local(moment, services().settings.zone)


@bp.get("/schedules")
def index() -> str:
    web_services = services()
    with web_services.session_factory() as session:
        user = db_user(session, require_principal())
        views = [_view(session, each) for each in service.list_schedules(session, user=user)]
    return render_template("schedules.html", schedules=views, **_labels())


@bp.route("/schedules/new", methods=["GET", "POST"])
def new() -> PageAnswer:
    """GET shows the form (`?template=start-of-year`: the ready-made start-of-year reset); POST
    saves it, unless it comes from the wizard's "Schedule this batch…" (`prefill`), which only
    fills the form with the wizard's grid."""
    if request.method == "GET" or "prefill" in request.form:
        year = _current_school_year()
        if request.method == "POST":
            return _render_form(from_wizard(request.form, year))
        if request.args.get("template") == START_OF_YEAR:
            return _render_form(start_of_year_form(year))
        return _render_form(new_form(year))
    web_services = services()
    try:
        body = parse(ScheduleRequest, schedule_payload(request.form))
        with web_services.session_factory.begin() as session:
            user = db_user(session, require_principal())
            schedule = service.create_schedule(session, body, user=user, now=web_services.now())
            schedule_id, name = schedule.id, schedule.name
    except InvalidRequest as error:
        return _render_form(request.form, error=error), 400
    except Forbidden as refused:
        return _refused_form(refused)
    flash(f"Schedule {name!r} is saved.")
    return redirect(url_for("schedules.show", schedule_id=schedule_id))


@bp.get("/schedules/<id:schedule_id>")
def show(schedule_id: int) -> str:
    query = query_of(PageQuery, forms=True)
    web_services = services()
    with web_services.session_factory() as session:
        user = db_user(session, require_principal())
        schedule = service.visible_schedule(session, schedule_id, user)
        view = _view(session, schedule)
        runs, total = list_runs(
            session, schedule, web_services.settings.zone, page=query.page, per_page=PER_PAGE
        )
        filter_name = _filter_name(session, schedule)
    return render_template(
        "schedule.html",
        schedule=view,
        changes=_changes(view),
        filter_name=filter_name,
        runs=runs,
        total=total,
        page=query.page,
        pages=page_count(total, PER_PAGE),
        **_labels(),
    )


@bp.route("/schedules/<id:schedule_id>/edit", methods=["GET", "POST"])
def edit(schedule_id: int) -> PageAnswer:
    web_services = services()
    if request.method == "GET":
        with web_services.session_factory() as session:
            user = db_user(session, require_principal())
            view = _view(session, service.visible_schedule(session, schedule_id, user))
        return _render_form(form_of(view), schedule_id=schedule_id)
    try:
        patch = parse(SchedulePatch, schedule_payload(request.form))
        with web_services.session_factory.begin() as session:
            user = db_user(session, require_principal())
            service.update_schedule(session, schedule_id, patch, user=user, now=web_services.now())
    except InvalidRequest as error:
        return _render_form(request.form, schedule_id=schedule_id, error=error), 400
    except Forbidden as refused:
        return _refused_form(refused, schedule_id)
    flash("Saved. The changes apply to the runs to come.")
    return redirect(url_for("schedules.show", schedule_id=schedule_id))


@bp.post("/schedules/<id:schedule_id>/run")
def run(schedule_id: int) -> Response:
    """Run now: the run's batch page; a run that could not run is recorded, and its reason shown
    on the schedule's page."""
    try:
        submitted = submission.run_schedule(schedule_id, require_principal())
    except (Conflict, InvalidRequest) as refused:
        flash(str(refused))
        return redirect(url_for("schedules.show", schedule_id=schedule_id))
    return redirect(url_for("batches.show", batch_id=submitted.batch.id))


@bp.post("/schedules/<id:schedule_id>/preview")
def preview(schedule_id: int) -> Response:
    """A preview batch of the template as of today, as the user who asked: no run."""
    try:
        submitted = submission.preview_schedule(schedule_id, require_principal())
    except (Conflict, InvalidRequest) as refused:
        flash(f"No preview was made: {refused}")
        return redirect(url_for("schedules.show", schedule_id=schedule_id))
    return redirect(url_for("batches.show", batch_id=submitted.batch.id))


@bp.post("/schedules/<id:schedule_id>/enabled")
def set_enabled(schedule_id: int) -> Response:
    """enabled=false pauses the schedule; enabled=true resumes it from its next due time."""
    chosen = request.form.get("enabled", "")
    if chosen not in ("true", "false"):
        raise InvalidRequest("must be true or false", field="enabled")
    web_services = services()
    with web_services.session_factory.begin() as session:
        user = db_user(session, require_principal())
        patch = parse(SchedulePatch, {"enabled": chosen == "true"})
        service.update_schedule(session, schedule_id, patch, user=user, now=web_services.now())
    flash("Resumed: it runs from its next due time." if chosen == "true" else "Paused.")
    return redirect(url_for("schedules.show", schedule_id=schedule_id))


@bp.route("/schedules/<id:schedule_id>/delete", methods=["GET", "POST"])
def delete(schedule_id: int) -> Response | str:
    """GET asks to confirm; POST deletes (its runs and their batches stay)."""
    web_services = services()
    if request.method == "GET":
        with web_services.session_factory() as session:
            user = db_user(session, require_principal())
            view = _view(session, service.visible_schedule(session, schedule_id, user))
        return render_template("schedule_delete.html", schedule=view)
    with web_services.session_factory.begin() as session:
        user = db_user(session, require_principal())
        name = service.visible_schedule(session, schedule_id, user).name
        service.delete_schedule(session, schedule_id, user=user, now=web_services.now())
    flash(f"Schedule {name!r} is deleted; its runs and their batches stay.")
    return redirect(url_for("schedules.index"))


def _view(session: Session, schedule: Schedule) -> ScheduleView:
    web_services = services()
    return schedule_view(session, schedule, web_services.settings.zone, web_services.now())


def _current_school_year() -> str | None:
    with services().session_factory() as session:
        return catalog.current_school_year(session, services().today())


def _filter_name(session: Session, schedule: Schedule) -> str | None:
    found = session.get(Filter, schedule.filter_id) if schedule.filter_id is not None else None
    return found.name if found is not None else None


def _changes(view: ScheduleView) -> list[tuple[str, list[str]]]:
    """Each channel the template sets something on, with what it sets: (Email, [Emergency: On])."""
    grid = view.template.changes.grid() if view.template.changes is not None else {}
    rows = []
    for channel, options in grid.items():
        cells = [
            f"{REASON_LABELS[reason]}: {OPTION_LABELS[option]}"
            for reason, option in options.items()
            if option != "noChange"
        ]
        if cells:
            rows.append((CHANNEL_LABELS[channel], cells))
    return rows


def _labels() -> dict[str, object]:
    return {
        "mode_labels": MODE_LABELS,
        "run_status_labels": RUN_STATUS_LABELS,
        "time_zone": services().settings.zone.key,
    }


def _refused_form(refused: Forbidden, schedule_id: int | None = None) -> tuple[str, int]:
    """Shown on the form, like bad input, so the choices can be corrected; audited as every
    refusal is."""
    record_refusal(str(refused))
    error = InvalidRequest(str(refused))
    return _render_form(request.form, schedule_id=schedule_id, error=error), 403


def _render_form(
    form: Mapping[str, str], *, schedule_id: int | None = None, error: InvalidRequest | None = None
) -> str:
    """The new-schedule or edit form with the batch grid of the wizard (batch_grid.html)."""
    return render_template(
        "schedule_form.html",
        form=form,
        schedule_id=schedule_id,
        error=error,
        error_control=control_of(error.field) if error else None,
        error_label=label_of(error.field) if error else "",
        error_words=plain(error.message) if error else "",
        rule_kinds=RULE_KINDS,
        months=list(enumerate(MONTH_NAMES, start=1)),
        start_of_year=START_OF_YEAR,
        time_zone=services().settings.zone.key,
        **template_choices(require_principal()),
    )
