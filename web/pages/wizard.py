"""The batch wizard (SPEC section 10): validate -> submit -> commit -> enqueue -> redirect."""

from collections.abc import Mapping

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from shared import catalog
from shared.errors import InvalidRequest
from shared.vocabulary import CHANNELS, OPTIONS, REASONS
from web.auth import ensure_can_write, require_principal
from web.labels import CHANNEL_LABELS, MODE_OPTIONS, OPTION_LABELS, REASON_LABELS, field_label
from web.services import services
from web.submission import submit
from web.wizard_form import (
    SUBMISSION_CONTROL,
    change_control,
    control_of_field,
    idempotency_key,
    new_submission_token,
    payload_from_form,
)


def make_wizard_blueprint() -> Blueprint:
    wizard = Blueprint("wizard", __name__)
    wizard.add_url_rule(
        "/batches/new", "new_batch", login_required(new_batch), methods=["GET", "POST"]
    )
    return wizard


def new_batch() -> Response | str | tuple[str, int]:
    principal = require_principal()
    ensure_can_write(principal)
    if request.method == "GET":
        today = services().today()
        with services().session_factory() as session:
            year = catalog.current_school_year(session, today)
        return _render(
            {"mode": "studentContact", "schoolYear": year or "", "asOf": today.isoformat()}
        )
    payload = payload_from_form(request.form)
    try:
        submitted = submit(
            payload, principal, idempotency_key=idempotency_key(request.form, payload)
        )
    except InvalidRequest as error:
        return _render(request.form, error), 400
    return redirect(url_for("batches.show", batch_id=submitted.batch_id))


def _render(form: Mapping[str, str], error: InvalidRequest | None = None) -> str:
    with services().session_factory() as session:
        choices = {
            "school_years": catalog.school_years(session),
            "schools": catalog.schools(session),
            "calendars": catalog.calendars(session),
            "student_filters": catalog.filters(session, "student"),
            "census_filters": catalog.filters(session, "census"),
        }
    return render_template(
        "wizard.html",
        form=form,
        error=error,
        error_control=control_of_field(error.field) if error else None,
        error_label=field_label(error.field) if error else "",
        modes=MODE_OPTIONS,
        channels=[(channel, CHANNEL_LABELS[channel]) for channel in CHANNELS],
        reasons=[(reason, REASON_LABELS[reason]) for reason in REASONS],
        options=[(option, OPTION_LABELS[option]) for option in OPTIONS],
        change_control=change_control,
        submission_token=form.get(SUBMISSION_CONTROL) or new_submission_token(),
        **choices,
    )
