"""The batch page (status, progress, result, and its buttons: undo, cancel, apply a preview)
and the history of batches."""

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from shared.batches.service import list_batches, visible_batch
from shared.batches.views import batch_view, batch_views
from shared.core.errors import Conflict
from shared.core.vocabulary import CHANNELS, MODE_LABELS, REASONS
from shared.models.batches import ACTIVE_STATUSES, FINAL_STATUSES
from web import submission
from web.auth import db_user, require_principal
from web.labels import CHANNEL_LABELS, REASON_LABELS
from web.params import optional_arg, page_count, positive_int_arg
from web.services import services

PER_PAGE = 50


def make_batches_blueprint() -> Blueprint:
    batches = Blueprint("batches", __name__)
    batches.add_url_rule("/", "home", home, methods=["GET"])
    batches.add_url_rule("/batches", "history", history, methods=["GET"])
    batches.add_url_rule("/batches/<int:batch_id>", "show", show, methods=["GET"])
    batches.add_url_rule("/batches/<int:batch_id>/undo", "undo", undo, methods=["GET", "POST"])
    batches.add_url_rule("/batches/<int:batch_id>/cancel", "cancel", cancel, methods=["POST"])
    batches.add_url_rule("/batches/<int:batch_id>/apply", "apply", apply, methods=["POST"])
    return batches


def home() -> Response:
    principal = require_principal()
    return redirect(url_for("wizard.new_batch" if principal.can_write else "batches.history"))


def show(batch_id: int) -> str:
    return _render_batch("batch.html", batch_id)


def undo(batch_id: int) -> Response | str:
    """GET asks to confirm; POST queues the undo and shows it."""
    principal = require_principal()
    if request.method == "GET":
        return _render_batch("undo.html", batch_id)
    try:
        submitted = submission.undo(batch_id, principal)
    except Conflict as refused:
        flash(str(refused))
        return redirect(url_for("batches.show", batch_id=batch_id))
    flash(f"The undo of batch {batch_id} is queued.")
    return redirect(url_for("batches.show", batch_id=submitted.batch_id))


def cancel(batch_id: int) -> Response:
    principal = require_principal()
    try:
        submission.cancel(batch_id, principal)
    except Conflict as refused:
        flash(str(refused))
    else:
        flash(f"Batch {batch_id} is cancelled; what it applied stays, and can be undone.")
    return redirect(url_for("batches.show", batch_id=batch_id))


def apply(batch_id: int) -> Response:
    """Apply a preview: the same request, for real (once; a second click shows that batch)."""
    principal = require_principal()
    try:
        submitted = submission.apply(batch_id, principal)
    except Conflict as refused:
        flash(str(refused))
        return redirect(url_for("batches.show", batch_id=batch_id))
    return redirect(url_for("batches.show", batch_id=submitted.batch_id))


def _render_batch(template: str, batch_id: int) -> str:
    with services().session_factory() as session:
        user = db_user(session, require_principal())
        batch: dict[str, Any] = batch_view(session, visible_batch(session, batch_id, user))
    return render_template(
        template,
        batch=batch,
        final=batch["status"] in FINAL_STATUSES,
        undoable=_undoable(batch),
        mode_labels=MODE_LABELS,
        channels=[(channel, CHANNEL_LABELS[channel]) for channel in CHANNELS],
        reasons=[(reason, REASON_LABELS[reason]) for reason in REASONS],
        channel_labels=CHANNEL_LABELS,
        reason_labels=REASON_LABELS,
    )


def _undoable(batch: dict[str, Any]) -> bool:
    """Whether the page offers Undo; the service decides (and says why not) when asked."""
    return (
        batch["status"] in FINAL_STATUSES
        and batch["kind"] == "batch"
        and not batch["dryRun"]
        and batch["undoneBy"] is None
    )


def history() -> str:
    page = positive_int_arg("page", 1)
    status = optional_arg("status")
    with services().session_factory() as session:
        user = db_user(session, require_principal())
        rows, total = list_batches(session, page=page, per_page=PER_PAGE, status=status, user=user)
        items = batch_views(session, rows)
    return render_template(
        "history.html",
        items=items,
        page=page,
        total=total,
        pages=page_count(total, PER_PAGE),
        status=status,
        statuses=ACTIVE_STATUSES + FINAL_STATUSES,
        mode_labels=MODE_LABELS,
    )
