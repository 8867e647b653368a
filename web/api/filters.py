"""Saved ad hoc filters: list, make, read, change, delete, and preview what one matches."""

from flask import url_for

from shared.filters import preview, service
from shared.filters.criteria import CriteriaPreviewRequest, FilterRequest
from shared.filters.preview import FilterPreview, FilterPreviewRequest, preview_filter
from shared.filters.service import FilterView
from web.api.bodies import FilterList
from web.api.routes import Link, api
from web.auth import db_user, require_principal
from web.services import services

FILTER_ID = {"filterId": "$response.body#/id"}
ON_A_FILTER = (
    Link("GetFilter", "get_filter", FILTER_ID),
    Link("UpdateFilter", "update_filter", FILTER_ID),
    Link("PreviewFilter", "preview_saved_filter", FILTER_ID),
    Link("DeleteFilter", "delete_filter", FILTER_ID),
)


@api.get("/filters", summary="The saved ad hoc filters the user may use", response=FilterList)
def list_filters() -> FilterList:
    with services().session_factory() as session:
        user = db_user(session, require_principal())
        saved = service.list_filters(session, user=user)
        return FilterList(items=[service.filter_view(each) for each in saved])


@api.post(
    "/filters",
    summary="Save an ad hoc filter",
    status=201,
    body=FilterRequest,
    response=FilterView,
    links=ON_A_FILTER,
)
def create_filter(body: FilterRequest) -> tuple[FilterView, dict[str, str]]:
    principal = require_principal()
    with services().session_factory.begin() as session:
        saved = service.create_filter(session, body, user=db_user(session, principal))
        view = service.filter_view(saved)
    return view, {"Location": url_for("api.get_filter", filter_id=view.id)}


@api.get("/filters/<id:filter_id>", summary="One saved filter", response=FilterView)
def get_filter(filter_id: int) -> FilterView:
    with services().session_factory() as session:
        user = db_user(session, require_principal())
        return service.filter_view(service.visible_filter(session, filter_id, user))


@api.put(
    "/filters/<id:filter_id>",
    summary="Change a saved filter: its name, kind and criteria (batches keep the criteria "
    "they ran with)",
    body=FilterRequest,
    response=FilterView,
    links=ON_A_FILTER[:3],
)
def update_filter(filter_id: int, body: FilterRequest) -> FilterView:
    principal = require_principal()
    with services().session_factory.begin() as session:
        saved = service.update_filter(session, filter_id, body, user=db_user(session, principal))
        return service.filter_view(saved)


@api.delete(
    "/filters/<id:filter_id>",
    summary="Delete a saved filter (batches keep the criteria they ran with)",
    status=204,
    response=None,
)
def delete_filter(filter_id: int) -> None:
    principal = require_principal()
    with services().session_factory.begin() as session:
        service.delete_filter(session, filter_id, user=db_user(session, principal))


@api.post(
    "/filters/<id:filter_id>/preview",
    summary="How many people a saved filter matches as of a date, and the first of them by "
    "name (a student filter: over every calendar)",
    body=FilterPreviewRequest,
    response=FilterPreview,
)
def preview_saved_filter(filter_id: int, body: FilterPreviewRequest) -> FilterPreview:
    web_services = services()
    with web_services.session_factory() as session:
        user = db_user(session, require_principal())
        saved = service.visible_filter(session, filter_id, user)
        return preview_filter(session, saved, body.as_of or web_services.today(), user=user)


@api.post(
    "/filters/preview",
    summary="How many people unsaved criteria of a kind would match as of a date, and the "
    "first of them by name: what the filter designer shows as its criteria change",
    body=CriteriaPreviewRequest,
    response=FilterPreview,
)
def preview_criteria(body: CriteriaPreviewRequest) -> FilterPreview:
    web_services = services()
    as_of = body.as_of or web_services.today()
    with web_services.session_factory() as session:
        user = db_user(session, require_principal())
        return preview.preview_criteria(
            session, body.kind, body.stored_criteria(), as_of, user=user
        )
