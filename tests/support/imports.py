"""Uploading bundles through the API in tests, and running the import job in-process."""

import io
import zipfile
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from shared.batches.pipeline import messages
from shared.core.db import SessionFactory
from tests.support.csv_bundle import BUNDLE
from tests.support.driver import drain
from tests.support.web import EnqueueRecorder


def zipped(files: dict[str, str | bytes], folder: str = "") -> bytes:
    """A zip of the files, inside `folder` if one is given."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(folder + name, content)
    return buffer.getvalue()


def native_zip(changes: dict[str, str | None] | None = None, folder: str = "") -> bytes:
    files = {**BUNDLE, **(changes or {})}
    return zipped({name: text for name, text in files.items() if text is not None}, folder)


def zip_of_folder(folder: Path) -> bytes:
    return zipped({p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()})


def upload(
    client: FlaskClient,
    data: bytes,
    fmt: str = "native",
    *,
    headers: dict[str, str] | None = None,
    filename: str = "bundle.zip",
) -> TestResponse:
    return client.post(
        "/api/v1/imports",
        data={"format": fmt, "file": (io.BytesIO(data), filename)},
        headers=headers or {},
    )


def run_imports(factory: SessionFactory, enqueued: EnqueueRecorder) -> None:
    """Run what the app sent (plans and chunks) in-process, as a worker would."""
    sent = [messages.Message(name, tuple(args)) for name, args in enqueued.calls]
    enqueued.calls.clear()
    drain(factory, sent, chunk_size=2)


def import_json(client: FlaskClient, import_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/imports/{import_id}")
    assert response.status_code == 200, response.get_json()
    found: dict[str, Any] = response.get_json()
    return found
