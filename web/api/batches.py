"""The batches: submit, list, read; and, on one batch, undo, cancel, and apply (a preview)."""

from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for

from shared.batches.service import list_batches, visible_batch
from shared.batches.views import batch_view, batch_views
from shared.core.errors import InvalidRequest
from web.auth import db_user, require_principal
from web.params import json_object_body, optional_arg, positive_int_arg
from web.services import services
from web.submission import Submitted, apply, cancel, submit, undo

PER_PAGE = 50
MAX_PER_PAGE = 200
MAX_IDEMPOTENCY_KEY = 200  # the column's width


def register(api: Blueprint) -> None:
    api.add_url_rule("/batches", "submit_batch", submit_batch, methods=["POST"])
    api.add_url_rule("/batches", "list_batches", list_batches_, methods=["GET"])
    api.add_url_rule("/batches/<int:batch_id>", "get_batch", get_batch_, methods=["GET"])
    api.add_url_rule("/batches/<int:batch_id>/undo", "undo_batch", undo_, methods=["POST"])
    api.add_url_rule("/batches/<int:batch_id>/cancel", "cancel_batch", cancel_, methods=["POST"])
    api.add_url_rule("/batches/<int:batch_id>/apply", "apply_batch", apply_, methods=["POST"])


def submit_batch() -> tuple[Response, int, dict[str, str]]:
    payload = json_object_body()
    idempotency_key = request.headers.get("Idempotency-Key", "").strip() or None
    if idempotency_key is not None and len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
        raise InvalidRequest(
            f"must be at most {MAX_IDEMPOTENCY_KEY} characters", field="Idempotency-Key"
        )
    return _accepted(submit(payload, require_principal(), idempotency_key=idempotency_key))


def undo_(batch_id: int) -> tuple[Response, int, dict[str, str]]:
    return _accepted(undo(batch_id, require_principal()))


def apply_(batch_id: int) -> tuple[Response, int, dict[str, str]]:
    return _accepted(apply(batch_id, require_principal()))


def cancel_(batch_id: int) -> dict[str, Any]:
    cancel(batch_id, require_principal())
    return get_batch_(batch_id)


def _accepted(submitted: Submitted) -> tuple[Response, int, dict[str, str]]:
    url = url_for("api.get_batch", batch_id=submitted.batch_id)
    body = {"id": submitted.batch_id, "status": submitted.status, "url": url}
    return jsonify(body), 202, {"Location": url}


def list_batches_() -> dict[str, Any]:
    page = positive_int_arg("page", 1)
    per_page = positive_int_arg("perPage", PER_PAGE, maximum=MAX_PER_PAGE)
    status = optional_arg("status")  # list_batches says which statuses there are
    with services().session_factory() as session:
        user = db_user(session, require_principal())
        batches, total = list_batches(
            session, page=page, per_page=per_page, status=status, user=user
        )
        items = batch_views(session, batches)
    return {"items": items, "page": page, "perPage": per_page, "total": total}


def get_batch_(batch_id: int) -> dict[str, Any]:
    with services().session_factory() as session:
        user = db_user(session, require_principal())
        return batch_view(session, visible_batch(session, batch_id, user))
