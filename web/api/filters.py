"""GET/POST /api/v1/filters: saved ad hoc filters."""

from typing import Any

from flask import Blueprint, Response, jsonify

from shared.filters.service import create_filter, filter_view, list_filters
from web.auth import db_user, require_principal
from web.params import json_object_body
from web.services import services


def register(api: Blueprint) -> None:
    api.add_url_rule("/filters", "list_filters", list_filters_, methods=["GET"])
    api.add_url_rule("/filters", "create_filter", create_filter_, methods=["POST"])


def list_filters_() -> dict[str, Any]:
    with services().session_factory() as session:
        user = db_user(session, require_principal())
        return {"items": [filter_view(saved) for saved in list_filters(session, user=user)]}


def create_filter_() -> tuple[Response, int]:
    payload = json_object_body()
    principal = require_principal()
    with services().session_factory.begin() as session:
        saved = create_filter(session, payload, user=db_user(session, principal))
        session.flush()
        view = filter_view(saved)
    return jsonify(view), 201
