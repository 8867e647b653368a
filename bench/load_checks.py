"""bench.load's integrity checks, once every batch has finished: each succeeded and did all its
chunks, they ran one after another in id order, their counts add up to their change logs, and
previews of the big and the last batch change nothing; and the cells of the report."""

import csv
import io
import json
from datetime import UTC, datetime

from bench.client import Client, View
from bench.stack import FINAL
from tests.support.processes import wait_until


def all_final(client: Client, batch_ids: list[int]) -> bool:
    """Whether every batch has finished; an answer other than 200 counts as not yet."""
    for batch_id in list(batch_ids):
        status, content = client.call("checks", "GET", f"/api/v1/batches/{batch_id}")
        if status != 200 or json.loads(content)["status"] not in FINAL:
            return False
    return True


def verify(
    client: Client, batch_ids: list[int], timeout: float
) -> tuple[list[View], dict[str, list[str]]]:
    """The finished batches, and each check with what it found wrong: all empty if no change
    was lost or counted twice."""
    wait_until(lambda: all_final(client, batch_ids), timeout, 2.0, "every batch to finish")
    views = [client.view(batch_id) for batch_id in batch_ids]
    pairs = zip(views, views[1:], strict=False)
    checks = {
        "every batch succeeded": [
            f"batch {v['id']}: {v['status']}, {short(str(v['result']['errors']))}"
            for v in views
            if v["status"] != "succeeded"
        ],
        "progress: done = total": [
            f"batch {v['id']}: {v['progress']}"
            for v in views
            if v["progress"]["done"] != v["progress"]["total"]
        ],
        "applied one after another, in id order": [
            f"batch {b['id']} started at {b['startedAt']}, batch {a['id']} finished at "
            f"{a['finishedAt']}"
            for a, b in pairs
            if stamp(a["finishedAt"]) > stamp(b["startedAt"])
        ],
        "counts add up to the rows of changes.csv": [],
        "previews of the big and the last batch change nothing": [],
    }
    for view in views:
        path = f"/api/v1/batches/{view['id']}/changes.csv"
        status, content = client.call("checks", "GET", path)
        rows = len(list(csv.reader(io.StringIO(content.decode())))) - 1
        if status != 200 or total(view["result"]["counts"]) != rows:
            checks["counts add up to the rows of changes.csv"].append(
                f"batch {view['id']}: counts add up to {total(view['result']['counts'])}; "
                f"{path}: {status}, {rows} rows"
            )
    # Each of the two set its values last, so a change it lost would be found again here.
    previews = {}
    for view in {views[0]["id"]: views[0], views[-1]["id"]: views[-1]}.values():
        body = {key: view[key] for key in ("mode", "scope", "changes", "asOf")}
        previews[view["id"]] = client.submit("checks", {**body, "dryRun": True})
    started = [preview for preview in previews.values() if preview is not None]
    wait_until(lambda: all_final(client, started), timeout, 1.0, f"the previews {started}")
    for batch_id, preview in previews.items():
        found = None if preview is None else client.view(preview)
        if found is None or found["status"] != "succeeded" or total(found["result"]["counts"]):
            checks["previews of the big and the last batch change nothing"].append(
                f"preview {preview} of batch {batch_id}: {short(str(found and found['result']))}"
            )
    return views, checks


def stamp(value: str | None) -> datetime:
    """A view's timestamp; a missing one (never started or finished) sorts last."""
    return datetime.fromisoformat(value) if value else datetime.max.replace(tzinfo=UTC)


def short(text: str, width: int = 160) -> str:
    """The first line of a long message, for one table cell."""
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= width else line[: width - 3] + "..."


def total(counts: dict[str, dict[str, int | None]]) -> int:
    return sum(n for reasons in counts.values() for n in reasons.values() if n is not None)
