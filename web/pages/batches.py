"""The batch page (status, progress, result) and the history of batches."""

from flask import Blueprint, redirect, render_template, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from shared.batch_service import get_batch, list_batches
from shared.batch_view import batch_view
from shared.models.batches import ACTIVE_STATUSES, FINAL_STATUSES
from shared.vocabulary import CHANNELS, MODE_LABELS, REASONS
from web.auth import require_principal
from web.labels import CHANNEL_LABELS, REASON_LABELS
from web.params import optional_arg, positive_int_arg
from web.services import services

PER_PAGE = 50


def make_batches_blueprint() -> Blueprint:
    batches = Blueprint("batches", __name__)
    batches.add_url_rule("/", "home", login_required(home), methods=["GET"])
    batches.add_url_rule("/batches", "history", login_required(history), methods=["GET"])
    batches.add_url_rule("/batches/<int:batch_id>", "show", login_required(show), methods=["GET"])
    return batches


def home() -> Response:
    principal = require_principal()
    return redirect(url_for("wizard.new_batch" if principal.can_write else "batches.history"))


def show(batch_id: int) -> str:
    with services().session_factory() as session:
        batch = batch_view(session, get_batch(session, batch_id))
    return render_template(
        "batch.html",
        batch=batch,
        final=batch["status"] in FINAL_STATUSES,
        mode_labels=MODE_LABELS,
        channels=[(channel, CHANNEL_LABELS[channel]) for channel in CHANNELS],
        reasons=[(reason, REASON_LABELS[reason]) for reason in REASONS],
    )


def history() -> str:
    page = positive_int_arg("page", 1)
    status = optional_arg("status")
    with services().session_factory() as session:
        rows, total = list_batches(session, page=page, per_page=PER_PAGE, status=status)
        items = [batch_view(session, batch) for batch in rows]
    return render_template(
        "history.html",
        items=items,
        page=page,
        total=total,
        pages=max(1, -(-total // PER_PAGE)),
        status=status,
        statuses=ACTIVE_STATUSES + FINAL_STATUSES,
        mode_labels=MODE_LABELS,
    )
