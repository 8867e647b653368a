"""Reading the conformance cases of ../shared/conformance (their README says what each file is)."""

import csv
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.core.db import SessionFactory
from tests.support.driver import save_filter

CONFORMANCE_DIR = Path(
    os.environ.get("CPB_CONFORMANCE_DIR")
    or Path(__file__).resolve().parents[1].parent / "shared" / "conformance"
)


def case_names() -> list[str]:
    if not CONFORMANCE_DIR.is_dir():
        return []
    return sorted(p.name for p in CONFORMANCE_DIR.iterdir() if (p / "steps.json").is_file())


@dataclass(frozen=True)
class Case:
    path: Path

    @property
    def bundle(self) -> Path:
        return self.path / "bundle"

    def filters(self) -> list[dict[str, Any]]:
        return json.loads((self.path / "filters.json").read_text())

    def steps(self) -> list[dict[str, Any]]:
        return json.loads((self.path / "steps.json").read_text())

    def final_rows(self) -> list[list[str]]:
        return sorted_rows((self.path / "final_preferences.csv").read_text())

    def create_filters(self, factory: SessionFactory) -> dict[str, int]:
        ids = {}
        with factory.begin() as session:
            for saved in self.filters():
                ids[saved["name"]] = save_filter(session, saved).id
        return ids


def request_of(step: dict[str, Any], filter_ids: dict[str, int]) -> dict[str, Any]:
    """The step's request as the API takes it: the filter's name replaced by its id."""
    request = dict(step["request"])
    if "filter" in request:
        request["filterId"] = filter_ids[request.pop("filter")]
    return request


def sorted_rows(text: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text)))
    return [rows[0], *sorted(rows[1:])]
