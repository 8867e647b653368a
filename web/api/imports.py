"""Imports as jobs: upload a bundle (a native zip or a OneRoster zip), follow it, read its report
and its quarantine as CSV; and the district's default grid for new addresses."""

from collections.abc import Iterator

from flask import Response, request, url_for

from shared.batches import import_views
from shared.batches.import_views import ImportView
from shared.core.contract import View
from shared.core.db import SessionFactory, read_session
from shared.core.errors import InvalidRequest
from shared.core.spreadsheet import csv_lines
from shared.core.vocabulary import BatchStatus, ImportFormat
from shared.people.defaults import DefaultsRequest, DefaultsView, defaults_view, set_defaults
from web import submission
from web.api.routes import CSV, Link, api
from web.auth import db_user, require_principal
from web.queries import PageQuery
from web.services import services

QUARANTINE_COLUMNS = ("file", "line", "column", "value", "why")
IMPORT_ID = {"importId": "$response.body#/id"}
UPLOAD = {
    "file": ({"type": "string", "format": "binary"}, "The bundle: a zip file"),
    "format": (
        {"type": "string", "enum": list(ImportFormat)},
        "native (the product's CSV files) or oneroster (OneRoster 1.1 or 1.2 CSV)",
    ),
}


class ImportAccepted(View):
    """The import is queued: poll `url` for its progress and report."""

    id: int
    status: BatchStatus
    url: str


class ImportList(View):
    items: list[ImportView]
    page: int
    per_page: int
    total: int


@api.post(
    "/imports",
    summary="Upload a bundle to import (multipart: file, format); one import at a time",
    status=202,
    response=ImportAccepted,
    upload=UPLOAD,
    errors=(409,),
    links=(Link("GetImport", "get_import", IMPORT_ID),),
)
def create_import() -> ImportAccepted:
    submission.allow_upload()
    for name in [*request.form, *request.files]:
        if name not in UPLOAD:
            raise InvalidRequest("unknown field; the fields are file and format", field=name)
    upload = request.files.get("file")
    fmt = request.form.get("format", "")
    if upload is None:
        raise InvalidRequest("give the bundle as the multipart field file", field="file")
    if fmt not in tuple(ImportFormat):
        raise InvalidRequest("give format: native or oneroster", field="format")
    job_id = submission.submit_upload(upload, fmt, require_principal())
    return ImportAccepted(
        id=job_id, status=BatchStatus.QUEUED, url=url_for("api.get_import", import_id=job_id)
    )


@api.get("/imports", summary="The imports, newest first", query=PageQuery, response=ImportList)
def list_imports(query: PageQuery) -> ImportList:
    with services().session_factory() as session:
        return ImportList(
            items=import_views.import_views(session, page=query.page, per_page=query.per_page),
            page=query.page,
            per_page=query.per_page,
            total=import_views.count_imports(session),
        )


@api.get(
    "/imports/<id:import_id>",
    summary="One import: status, progress (files, rows) and, once finished, its report",
    response=ImportView,
)
def get_import(import_id: int) -> ImportView:
    with services().session_factory() as session:
        return import_views.import_view(session, import_id)


@api.get(
    "/imports/<id:import_id>/quarantine.csv",
    summary="Every address the import quarantined, and every row it skipped, as CSV: "
    "file,line,column,value,why",
    response=CSV,
)
def import_quarantine_csv(import_id: int) -> Response:
    session_factory = services().session_factory
    with session_factory() as session:
        import_views.import_view(session, import_id)  # a 404 before the stream starts
    return Response(
        quarantine_lines(session_factory, import_id),
        mimetype=CSV,
        headers={
            "Content-Disposition": f'attachment; filename="import-{import_id}-quarantine.csv"'
        },
    )


def quarantine_lines(session_factory: SessionFactory, import_id: int) -> Iterator[str]:
    with read_session(session_factory) as session:
        rows = (
            (finding.file, str(finding.line), finding.column, finding.value, finding.why)
            for finding in import_views.findings(session, import_id)
        )
        yield from csv_lines(QUARANTINE_COLUMNS, rows)


@api.get("/defaults", summary="The default grid for new addresses", response=DefaultsView)
def get_defaults() -> DefaultsView:
    with services().session_factory() as session:
        return defaults_view(session)


@api.put(
    "/defaults",
    summary="Set the default grid for new addresses (a channel or reason left out is off)",
    body=DefaultsRequest,
    response=DefaultsView,
)
def put_defaults(body: DefaultsRequest) -> DefaultsView:
    with services().session_factory.begin() as session:
        return set_defaults(session, body, db_user(session, require_principal()))
