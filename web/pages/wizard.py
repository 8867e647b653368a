"""The batch wizard: validate -> submit -> commit -> enqueue -> redirect."""

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from shared.batches import catalog
from shared.batches.request import parse_batch_request
from shared.core.errors import Forbidden, InvalidRequest
from shared.core.vocabulary import CHANNELS, OPTIONS, REASONS, Role
from web.access import record_refusal
from web.auth import Principal, db_user, require_principal
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

bp = Blueprint("wizard", __name__)


@bp.route("/batches/new", methods=["GET", "POST"])
def new_batch() -> Response | str | tuple[str, int]:
    principal = require_principal()
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
            parse_batch_request(payload),
            principal,
            idempotency_key=idempotency_key(request.form, payload),
        )
    except InvalidRequest as error:
        return _render(request.form, error), 400
    except Forbidden as refused:
        # Shown on the form, like bad input, so the choices can be corrected; audited as
        # every refusal is.
        record_refusal(str(refused))
        return _render(request.form, InvalidRequest(str(refused))), 403
    return redirect(url_for("batches.show", batch_id=submitted.batch.id))


def _render(form: Mapping[str, str], error: InvalidRequest | None = None) -> str:
    return render_template(
        "wizard.html",
        form=form,
        error=error,
        error_control=control_of_field(error.field) if error else None,
        error_label=field_label(error.field) if error else "",
        submission_token=form.get(SUBMISSION_CONTROL) or new_submission_token(),
        **template_choices(require_principal()),
    )


def template_choices(principal: Principal) -> dict[str, Any]:
    """What the controls of a batch template offer the user (the wizard's, and a schedule's):
    the school years, their schools, calendars and filters, the modes (no census mode for a
    school admin), and the channel x reason grid."""
    with services().session_factory() as session:
        user = db_user(session, principal)
        choices = {
            "school_years": catalog.school_years(session),
            "schools": catalog.schools(session, user),
            "calendars": catalog.calendars(session, user=user),
            "student_filters": catalog.filters(session, "student", user),
            "census_filters": catalog.filters(session, "census", user),
        }
    census = principal.role != Role.SCHOOL_ADMIN
    return choices | {
        "modes": [(value, label) for value, label in MODE_OPTIONS if census or value != "census"],
        "channels": [(channel, CHANNEL_LABELS[channel]) for channel in CHANNELS],
        "reasons": [(reason, REASON_LABELS[reason]) for reason in REASONS],
        "options": [(option, OPTION_LABELS[option]) for option in OPTIONS],
        "change_control": change_control,
    }
