"""Imports from the browser: upload a native bundle or a OneRoster zip (district admins), follow
the job, read its report; and the district's default grid for new addresses.

The upload form is exempt from the app-wide CSRF check, which would read the whole body under
the app's small body limit before the access rules run; the view checks the token itself, after
the access rules, under the import's own limit (CPB_IMPORT_MAX_BYTES).
"""

from itertools import islice
from typing import Final

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError, validate_csrf
from werkzeug.wrappers import Response
from wtforms import ValidationError

from shared.batches import import_views
from shared.core.contract import parse
from shared.core.errors import InvalidRequest
from shared.core.vocabulary import CHANNELS, REASONS, ImportFormat
from shared.people.defaults import DefaultsRequest, defaults_view, set_defaults
from web import submission
from web.auth import db_user, require_principal
from web.labels import CHANNEL_LABELS, REASON_LABELS
from web.services import services

SHOWN_FINDINGS: Final = 500
FORMAT_LABELS: Final = {
    ImportFormat.NATIVE: "Native CSV bundle (zip)",
    ImportFormat.ONEROSTER: "OneRoster 1.1 or 1.2 CSV (zip)",
}

bp = Blueprint("imports", __name__)


@bp.route("/imports", methods=["GET", "POST"])
def index() -> Response | str | tuple[str, int]:
    if request.method == "GET":
        return _render_index()
    submission.allow_upload()
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError as error:
        raise CSRFError(str(error)) from error
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise InvalidRequest("Choose the zip file to import.", field="file")
        job_id = submission.submit_upload(
            upload, request.form.get("format", ""), require_principal()
        )
    except InvalidRequest as error:
        return _render_index(error), 400
    flash(f"Import {job_id} is queued.")
    return redirect(url_for("imports.show", import_id=job_id))


def _render_index(error: InvalidRequest | None = None) -> str:
    with services().session_factory() as session:
        history = import_views.import_views(session, per_page=50)
    return render_template(
        "imports.html",
        history=history,
        formats=FORMAT_LABELS,
        chosen=request.form.get("format", ImportFormat.ONEROSTER),
        error=error,
        limit=services().settings.import_max_bytes,
    )


@bp.get("/imports/<id:import_id>")
def show(import_id: int) -> str:
    with services().session_factory() as session:
        job = import_views.import_view(session, import_id)
        found = list(islice(import_views.findings(session, import_id), SHOWN_FINDINGS + 1))
    return render_template(
        "import.html",
        job=job,
        findings=found[:SHOWN_FINDINGS],
        more=len(found) > SHOWN_FINDINGS,
        formats=FORMAT_LABELS,
    )


@bp.route("/defaults", methods=["GET", "POST"])
def defaults() -> Response | str | tuple[str, int]:
    web_services = services()
    if request.method == "POST":
        given = {
            channel: {reason: request.form.get(f"{channel}.{reason}", "off") for reason in REASONS}
            for channel in CHANNELS
        }
        try:
            grid = parse(DefaultsRequest, given)
            with web_services.session_factory.begin() as session:
                set_defaults(session, grid, db_user(session, require_principal()))
        except InvalidRequest as error:
            return _render_defaults(error), 400
        flash("Saved: addresses imported from now on get these values.")
        return redirect(url_for("imports.defaults"))
    return _render_defaults()


def _render_defaults(error: InvalidRequest | None = None) -> str:
    with services().session_factory() as session:
        grid = defaults_view(session)
    return render_template(
        "defaults.html",
        grid=grid,
        channels=[(c, CHANNEL_LABELS[c]) for c in CHANNELS],
        reasons=[(r, REASON_LABELS[r]) for r in REASONS],
        error=error,
    )
