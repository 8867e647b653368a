"""The batch wizard: validate -> submit -> commit -> enqueue -> redirect."""

from collections.abc import Mapping
from typing import Any, Final

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from shared.batches import catalog
from shared.batches.request import parse_batch_request
from shared.core.errors import Forbidden, InvalidRequest
from shared.core.vocabulary import CHANNELS, OPTIONS, REASONS, Role
from web.access import record_refusal
from web.auth import Principal, db_user, require_principal
from web.labels import (
    CHANNEL_LABELS,
    MODE_HELP,
    MODE_OPTIONS,
    OPTION_LABELS,
    REASON_HELP,
    REASON_LABELS,
    field_label,
)
from web.services import services
from web.submission import submit
from web.wizard_form import (
    SUBMISSION_CONTROL,
    change_control,
    control_of_field,
    idempotency_key,
    new_submission_token,
    payload_from_form,
    whole_district,
)
from web.wizard_words import plain

GIVE_AS_OF: Final = "give the date the batch is judged on"
CONFIRM: Final = (
    "{who}, so it was previewed first: nothing has changed yet. Check its counts, then Apply "
    "Changes to run it."
)
WHO: Final = {
    "census": "A Census/Staff batch can reach anyone in the district",
    "district": "This batch reaches the whole district",
}

bp = Blueprint("wizard", __name__)


@bp.route("/batches/new", methods=["GET", "POST"])
def new_batch() -> Response | str | tuple[str, int]:
    principal = require_principal()
    if request.method == "GET":
        return _render(_first_showing(principal))
    payload = payload_from_form(request.form)
    confirm = payload["dryRun"] is False and whole_district(payload)
    if confirm:  # previewed first; its page offers Apply Changes
        payload["dryRun"] = True
    try:
        parsed = parse_batch_request(payload)
        if parsed.as_of is None:  # the API's default, today, is not for a form to assume
            raise InvalidRequest(GIVE_AS_OF, field="asOf")
        submitted = submit(
            parsed, principal, idempotency_key=idempotency_key(request.form, payload)
        )
    except InvalidRequest as error:
        return _render(request.form, error), 400
    except Forbidden as refused:
        # Shown on the form, like bad input, so the choices can be corrected; audited as
        # every refusal is.
        record_refusal(str(refused))
        return _render(request.form, InvalidRequest(str(refused))), 403
    if confirm:
        flash(CONFIRM.format(who=WHO["census" if payload["mode"] == "census" else "district"]))
    return redirect(url_for("batches.show", batch_id=submitted.batch.id))


def _first_showing(principal: Principal) -> dict[str, str]:
    """The form as first shown: no scope chosen for a district admin; a school admin starts in
    their (first) school and the current school year."""
    today = services().today()
    form = {"mode": "studentContact", "asOf": today.isoformat()}
    if principal.role != Role.SCHOOL_ADMIN:
        return form
    with services().session_factory() as session:
        user = db_user(session, principal)
        schools = catalog.schools(session, user)
        year = catalog.current_school_year(session, today)
    if schools:
        form |= {"schoolId": schools[0].school_id, "schoolYear": year or ""}
    return form


def _render(form: Mapping[str, str], error: InvalidRequest | None = None) -> str:
    return render_template(
        "wizard.html",
        form=form,
        error=error,
        error_control=control_of_field(error.field) if error else None,
        error_label=field_label(error.field) if error else "",
        error_words=plain(error.message) if error else "",
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
        "mode_help": MODE_HELP,
        "reason_help": REASON_HELP,
    }
