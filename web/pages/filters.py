"""The filter designer: the saved filters (a school admin sees their own), and a form to make or
change one (student or census criteria: schools, grades, staff, students, messenger contacts, a
pasted or uploaded list of person ids, each bad line reported) with the count and a sample of
who matches, live in the browser (static/filter.js) and on the server with Show who matches;
delete, refused while a schedule uses the filter."""

from collections.abc import Mapping
from typing import Any, Final

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from shared.batches import catalog
from shared.core.contract import parse
from shared.core.errors import Conflict, InvalidRequest
from shared.core.vocabulary import FilterKind
from shared.filters import service
from shared.filters.criteria import FilterRequest
from shared.filters.person_list import BadPersonList, read_person_ids
from shared.filters.preview import FilterPreview, preview_criteria
from shared.models import Enrollment, Filter, Schedule, User
from web.auth import db_user, require_principal
from web.services import services

MAX_UPLOAD: Final = 2 * 1024 * 1024
FLAGS: Final = ("staff", "students", "messengerContacts")
FLAG_CHOICES: Final = (("", "Either"), ("true", "Yes"), ("false", "No"))

bp = Blueprint("filters", __name__)


@bp.get("/filters")
def index() -> str:
    with services().session_factory() as session:
        user = db_user(session, require_principal())
        saved = service.list_filters(session, user=user)
        owners = dict(session.execute(select(User.id, User.username)).all())
        used = dict(
            session.execute(
                select(Schedule.filter_id, Schedule.name).where(
                    Schedule.filter_id.is_not(None), Schedule.deleted_at.is_(None)
                )
            ).all()
        )
    rows = [
        (each, owners.get(each.owner_id) if each.owner_id else None, used.get(each.id))
        for each in saved
    ]
    return render_template("filters.html", rows=rows)


@bp.route("/filters/new", methods=["GET", "POST"])
def new() -> Response | str | tuple[str, int]:
    return _designer(None)


@bp.route("/filters/<id:filter_id>", methods=["GET", "POST"])
def edit(filter_id: int) -> Response | str | tuple[str, int]:
    return _designer(filter_id)


@bp.post("/filters/<id:filter_id>/delete")
def delete(filter_id: int) -> Response:
    try:
        with services().session_factory.begin() as session:
            service.delete_filter(session, filter_id, user=db_user(session, require_principal()))
    except Conflict as refused:
        flash(f"Not deleted: {refused}")
        return redirect(url_for("filters.edit", filter_id=filter_id))
    flash(f"Filter {filter_id} is deleted.")
    return redirect(url_for("filters.index"))


def _designer(filter_id: int | None) -> Response | str | tuple[str, int]:
    """GET shows the form; POST saves it, or (Show who matches) shows what it would match."""
    factory = services().session_factory
    if request.method == "GET":
        with factory() as session:
            user = db_user(session, require_principal())
            form = _form_of(service.visible_filter(session, filter_id, user)) if filter_id else {}
        return _render(filter_id, form)
    shown: FilterPreview | None = None
    try:
        with factory.begin() as session:
            user = db_user(session, require_principal())
            payload = payload_of(session, request.form, request.files)
            showing = request.form.get("action") == "preview"
            if showing and not payload["name"].strip():
                payload["name"] = "(not saved)"  # who matches needs no name yet
            body = parse(FilterRequest, payload)
            if showing:
                shown = preview_criteria(
                    session, body.kind, body.stored_criteria(), services().today(), user=user
                )
            elif filter_id is None:
                filter_id = service.create_filter(session, body, user=user).id
            else:
                service.update_filter(session, filter_id, body, user=user)
    except InvalidRequest as error:
        return _render(filter_id, request.form, error=error), 400
    if shown is not None:  # drawn after the transaction, which holds SQLite's write lock
        return _render(filter_id, request.form, preview=shown)
    flash(f"Filter {body.name!r} is saved.")
    return redirect(url_for("filters.edit", filter_id=filter_id))


def payload_of(session: Session, form: Mapping[str, Any], files: Mapping[str, Any]) -> Any:
    """The form as the filter request the API takes."""
    kind = form.get("kind", "")
    values = form if isinstance(form, MultiDict) else MultiDict(form)
    criteria: dict[str, Any] = {}
    ids = _person_ids(session, form.get("personIds", ""), files.get("personIdsFile"))
    if kind == FilterKind.STUDENT:
        if values.getlist("grades"):
            criteria["grades"] = values.getlist("grades")
        if values.getlist("schoolIds"):
            criteria["schoolIds"] = values.getlist("schoolIds")
    elif kind == FilterKind.CENSUS:
        criteria |= {
            flag: form[flag] == "true" for flag in FLAGS if form.get(flag) in ("true", "false")
        }
        if values.getlist("assignmentSchoolIds"):
            criteria["assignmentSchoolIds"] = values.getlist("assignmentSchoolIds")
    if ids:
        criteria["personIds"] = ids
    return {"name": form.get("name", ""), "kind": kind, "criteria": criteria}


def _person_ids(session: Session, pasted: str, upload: Any) -> list[str]:
    """The pasted ids, then the uploaded file's; every bad line of either reported."""
    sources = [("pasted list", pasted)]
    if upload is not None and upload.filename:
        data = upload.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            raise InvalidRequest(f"the file is over {MAX_UPLOAD} bytes", field="personIdsFile")
        sources.append((f"file {upload.filename}", data.decode("utf-8-sig", errors="replace")))
    ids: list[str] = []
    problems: list[str] = []
    for name, text in sources:
        try:
            ids += read_person_ids(session, text)
        except BadPersonList as bad:
            problems += [f"{name}, {problem}" for problem in bad.problems]
    if problems:
        raise BadPersonList(problems)
    return list(dict.fromkeys(ids))


def _form_of(saved: Filter) -> dict[str, Any]:
    criteria = saved.criteria or {}
    form: dict[str, Any] = {"name": saved.name, "kind": saved.kind}
    form["personIds"] = "\n".join(criteria.get("personIds", []))
    form |= {flag: str(criteria[flag]).lower() for flag in FLAGS if flag in criteria}
    for key in ("grades", "schoolIds", "assignmentSchoolIds"):
        form[key] = criteria.get(key, [])
    return form


def _render(
    filter_id: int | None,
    form: Mapping[str, Any],
    *,
    error: InvalidRequest | None = None,
    preview: FilterPreview | None = None,
) -> str:
    values = form if isinstance(form, MultiDict) else None
    chosen = {
        key: values.getlist(key) if values is not None else form.get(key, [])
        for key in ("grades", "schoolIds", "assignmentSchoolIds")
    }
    with services().session_factory() as session:
        user = db_user(session, require_principal())
        schools = catalog.schools(session, user)
        grades = list(
            session.scalars(select(Enrollment.grade).distinct().order_by(Enrollment.grade))
        )
    return render_template(
        "filter_form.html",
        filter_id=filter_id,
        form=form,
        chosen=chosen,
        error=error,
        problems=error.problems if isinstance(error, BadPersonList) else [],
        preview=preview,
        school_items=[(school.school_id, school.name) for school in schools],
        grade_items=[(grade, grade) for grade in grades],
        flags=(("staff", "Staff (an active district assignment)"),
               ("students", "Students (enrolled on the date)"),
               ("messengerContacts", "Messenger contacts (of an active messenger link)")),
        flag_choices=FLAG_CHOICES,
        today=services().today(),
    )  # fmt: skip
