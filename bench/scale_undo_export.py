"""bench.scale after the job: its undo (checked against the job's counts), and the exports,
`cpb export preferences` into a file and GET /api/v1/preferences.csv read in blocks."""

import http.client
import json
import time
from pathlib import Path

from bench.client import Client
from bench.memory import PeakSampler
from bench.scale_figures import Export, Job, Undo, differences
from bench.scale_job import POLL_SECONDS, wait_final
from bench.stack import Services, cpb_run, stack_env

DOWNLOAD_BLOCK = 1 << 20


def run_undo(client: Client, job: Job, sampler: PeakSampler) -> Undo:
    started = time.monotonic()
    status, content = client.call("undo", "POST", f"/api/v1/batches/{job.batch_id}/undo")
    if status != 202:
        return Undo(0.0, 0.0, [f"undo of batch {job.batch_id}: {status} {content[:300]!r}"])
    view = wait_final(client, int(json.loads(content)["id"]), POLL_SECONDS)
    seconds = time.monotonic() - started
    peak = sampler.sample()["worker"]
    counts = (view["result"] or {}).get("counts")
    if view["status"] != "succeeded":
        return Undo(seconds, peak, [f"the undo {view['status']}: {view['result']}"])
    if counts != job.counts:
        found = f"the undo against the batch (undo/batch): {differences(counts or {}, job.counts)}"
        return Undo(seconds, peak, [found])
    return Undo(seconds, peak, [])


def run_export(
    services: Services, url: str, broker_url: str, size_dir: Path, sampler: PeakSampler
) -> Export:
    """`cpb export preferences` into a file (counted, then deleted), and the same through the
    API, while the web still runs."""
    out = size_dir / "preferences.csv"
    try:
        ran = cpb_run(
            stack_env(url, broker_url, size_dir), "export", "preferences", "--out", str(out)
        )
        rows, size_mb = count_lines(out) - 1, out.stat().st_size / 2**20
    finally:
        out.unlink(missing_ok=True)
    started = time.monotonic()
    status, api_bytes = download(services.client, "/api/v1/preferences.csv")
    api_seconds = time.monotonic() - started
    problems = [] if status == 200 else [f"GET /api/v1/preferences.csv: {status}"]
    return Export(
        seconds=ran.seconds,
        rows=rows,
        mb=size_mb,
        peak_mb=ran.peak_rss_mb,
        api_seconds=api_seconds,
        api_mb=api_bytes / 2**20,
        web_peak_mb=sampler.sample()["web"],
        problems=problems,
    )


def count_lines(path: Path) -> int:
    with path.open("rb") as stream:
        return sum(block.count(b"\n") for block in iter(lambda: stream.read(DOWNLOAD_BLOCK), b""))


def download(client: Client, path: str) -> tuple[int, int]:
    """GET `path` on a connection of its own, read in blocks and dropped: (status, bytes)."""
    connection = http.client.HTTPConnection("127.0.0.1", client.port, timeout=600)
    try:
        connection.request("GET", path, headers=client.headers)
        response = connection.getresponse()
        size = sum(len(block) for block in iter(lambda: response.read(DOWNLOAD_BLOCK), b""))
        return response.status, size
    finally:
        connection.close()
