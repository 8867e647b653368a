"""The batch page (status, progress, result, and its buttons: undo, cancel, apply a preview)
and the history of batches."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from shared.batches import catalog, lookup, rules
from shared.batches.views import BatchView, batch_view, batch_views
from shared.core.errors import Conflict, InvalidRequest
from shared.core.vocabulary import CHANNELS, REASONS, BatchStatus
from web import batch_words, submission
from web.auth import db_user, require_principal
from web.labels import CHANNEL_LABELS, MODE_LABELS, REASON_LABELS
from web.params import page_count
from web.queries import PER_PAGE, BatchListQuery, query_of
from web.services import services

bp = Blueprint("batches", __name__)


@bp.get("/")
def home() -> Response:
    principal = require_principal()
    return redirect(url_for("wizard.new_batch" if principal.can_write else "batches.history"))


@bp.get("/batches/<id:batch_id>")
def show(batch_id: int) -> str:
    return _render_batch("batch.html", batch_id)


@bp.route("/batches/<id:batch_id>/undo", methods=["GET", "POST"])
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
    return redirect(url_for("batches.show", batch_id=submitted.batch.id))


@bp.post("/batches/<id:batch_id>/cancel")
def cancel(batch_id: int) -> Response:
    principal = require_principal()
    try:
        submission.cancel(batch_id, principal)
    except Conflict as refused:
        flash(str(refused))
    else:
        flash(f"Batch {batch_id} is cancelled: nothing more of it will run.")
    return redirect(url_for("batches.show", batch_id=batch_id))


@bp.post("/batches/<id:batch_id>/apply")
def apply(batch_id: int) -> Response:
    """Apply a preview: the same request, for real (once; a second click shows that batch)."""
    principal = require_principal()
    try:
        submitted = submission.apply(batch_id, principal)
    except Conflict as refused:
        flash(str(refused))
        return redirect(url_for("batches.show", batch_id=batch_id))
    return redirect(url_for("batches.show", batch_id=submitted.batch.id))


@bp.get("/batches")
def history() -> tuple[str, int] | str:
    try:
        query = query_of(BatchListQuery, forms=True)
    except InvalidRequest as error:
        return _render_history(BatchListQuery(), [], 0, error), 400
    with services().session_factory() as session:
        user = db_user(session, require_principal())
        rows, total = lookup.list_batches(
            session,
            page=query.page,
            per_page=PER_PAGE,
            selection=query.selection(services().settings.zone),
            user=user,
        )
        items = batch_views(session, rows)
        names = names_of(session, items)
    return _render_history(query, items, total, names=names)


def _render_history(
    query: BatchListQuery,
    items: list[BatchView],
    total: int,
    error: InvalidRequest | None = None,
    names: catalog.Names | None = None,
) -> str:
    chosen = query.model_dump(by_alias=True, exclude_none=True, exclude={"page", "per_page"})
    return render_template(
        "history.html",
        items=items,
        names=names,
        words=batch_words,
        page=query.page,
        total=total,
        pages=page_count(total, PER_PAGE),
        query=query,
        chosen={name: str(value) for name, value in chosen.items()},
        error=error,
        statuses=list(BatchStatus),
        mode_labels=MODE_LABELS,
    )


def names_of(session: Session, batches: list[BatchView]) -> catalog.Names:
    """The names of the schools, calendars and filters the batches name."""
    scopes = [batch.scope for batch in batches if batch.scope is not None]
    return catalog.names(
        session,
        {scope.school_id for scope in scopes if scope.school_id},
        {scope.calendar_id for scope in scopes if scope.calendar_id},
        {batch.filter_id for batch in batches if batch.filter_id is not None},
    )


def _render_batch(template: str, batch_id: int) -> str:
    with services().session_factory() as session:
        user = db_user(session, require_principal())
        batch: BatchView = batch_view(session, lookup.visible_batch(session, batch_id, user))
        names = names_of(session, [batch])
    why_not_undo = rules.why_not_undo(batch)
    return render_template(
        template,
        batch=batch,
        names=names,
        words=batch_words,
        why_not_undo=why_not_undo,
        may_undo=batch_words.may_undo(batch, why_not_undo),
        may_cancel=rules.why_not_cancel(batch) is None,
        may_apply=rules.why_not_apply(batch) is None and batch.applied_as is None,
        mode_labels=MODE_LABELS,
        channels=[(channel, CHANNEL_LABELS[channel]) for channel in CHANNELS],
        reasons=[(reason, REASON_LABELS[reason]) for reason in REASONS],
        channel_labels=CHANNEL_LABELS,
        reason_labels=REASON_LABELS,
    )
