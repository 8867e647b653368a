"""bench.scale's job under load: the district-wide batch, timed from just before its POST until a
poll sees it finished, while pollers read it and a submitter queues small batches behind it;
then the pollers once more with nothing running."""

import itertools
import random
import threading
import time
from datetime import datetime

from bench.client import Client, Endpoint, Stats, View
from bench.cpu import CpuTimes
from bench.memory import PeakSampler
from bench.scale_base import Base
from bench.scale_figures import Job, Latency
from bench.stack import BIG_CHANGES, FINAL, Services
from tests.support.processes import wait_until

JOB_TIMEOUT = 4 * 3600.0  # seconds: a generous bound on any one batch
POLL_SECONDS = 0.1  # how often the timing client polls a batch
POLLERS = 4
POLLER_SECONDS = 0.25
SUBMIT_SECONDS = 2.0
IDLE_SECONDS = 10.0  # of polls with nothing running, for comparison


def submit_big(client: Client, base: Base) -> tuple[int, float]:
    """POST the district-wide batch: its id, and the time just before the POST."""
    body = {"mode": "studentContact", "scope": {"schoolYear": base.year}}
    started = time.monotonic()
    batch_id = client.submit(
        "POST /batches (big)", {**body, "asOf": str(base.as_of), "changes": BIG_CHANGES}
    )
    if batch_id is None:
        raise SystemExit(f"the district-wide batch was refused: {client.stats.samples}")
    return batch_id, started


def wait_final(client: Client, batch_id: int, interval: float) -> View:
    def final() -> View:
        view = client.view(batch_id)
        return view if view["status"] in FINAL else {}  # falsy: poll again

    return wait_until(final, JOB_TIMEOUT, interval, f"batch {batch_id} to finish")


def job_of(view: View, seconds: float, peaks: dict[str, float], cpu: str) -> Job:
    ran = None
    if view["startedAt"] and view["finishedAt"]:
        finished = datetime.fromisoformat(view["finishedAt"])
        ran = (finished - datetime.fromisoformat(view["startedAt"])).total_seconds()
    result = view["result"] or {}
    return Job(
        batch_id=view["id"],
        status=view["status"],
        seconds=seconds,
        ran_seconds=ran,
        targets=result.get("targets", 0),
        counts=result.get("counts", {}),
        errors=result.get("errors", []),
        worker_peak_mb=peaks["worker"],
        web_peak_mb=peaks["web"],
        cpu=cpu,
    )


def run_job_under_load(services: Services, base: Base, sampler: PeakSampler) -> tuple[Job, Latency]:
    """The job while pollers read it and a submitter queues small batches behind it; then the
    small batches are waited for, and the pollers run once more with nothing else to do, for
    the latency of an idle system."""
    client = services.client
    cpu = CpuTimes.now()
    batch_id, started = submit_big(client, base)
    stats, done = Stats(), threading.Event()
    submitted: list[int] = []  # the small batches

    def submitter() -> None:
        own = Client(client.port, base.token, stats)
        scope = {"schoolId": base.school, "schoolYear": base.year}
        body = {"mode": "studentContact", "scope": scope, "asOf": str(base.as_of)}
        for n in itertools.count():
            changes = {"email": {"behavior": "on" if n % 2 == 0 else "off"}}
            if (small_id := own.submit("submit", {**body, "changes": changes})) is not None:
                submitted.append(small_id)
            if done.wait(SUBMIT_SECONDS):
                return

    threads = pollers(client, base.token, batch_id, stats, done)
    threads.append(threading.Thread(target=submitter))
    for thread in threads:
        thread.start()
    try:
        view = wait_final(client, batch_id, POLL_SECONDS)
        seconds, cpu_shares = time.monotonic() - started, CpuTimes.now().since(cpu)
    finally:  # also on Ctrl-C or SIGTERM, or the threads would keep the process alive
        done.set()
        for thread in threads:
            thread.join()
    small = [wait_final(client, small_id, 0.5) for small_id in submitted]
    job = job_of(view, seconds, sampler.sample(), cpu_shares)
    return job, Latency.of(stats, small, idle_polls(client, base.token, batch_id))


def pollers(
    client: Client, token: str, batch_id: int, stats: Stats, done: threading.Event
) -> list[threading.Thread]:
    """POLLERS threads (not started) that read the batch every POLLER_SECONDS until `done`."""

    def poller() -> None:
        own = Client(client.port, token, stats)
        done.wait(random.uniform(0, POLLER_SECONDS))  # out of step with the others
        while not done.is_set():
            own.call("poll", "GET", f"/api/v1/batches/{batch_id}")
            done.wait(POLLER_SECONDS)

    return [threading.Thread(target=poller) for _ in range(POLLERS)]


def idle_polls(client: Client, token: str, batch_id: int) -> Endpoint:
    """The pollers for IDLE_SECONDS with no batch running."""
    stats, done = Stats(), threading.Event()
    threads = pollers(client, token, batch_id, stats, done)
    for thread in threads:
        thread.start()
    done.wait(IDLE_SECONDS)
    done.set()
    for thread in threads:
        thread.join()
    return stats.endpoints.get("poll", Endpoint())
