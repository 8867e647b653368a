"""bench.scale's figures per size: the jobs, the API's latency, the undo, the exports and the
import, and the checks a size failed."""

from dataclasses import dataclass

from bench.client import Endpoint, Stats, View
from bench.statement import Counts


@dataclass(frozen=True)
class Job:
    batch_id: int
    status: str
    seconds: float  # from just before the POST until a poll saw it finished
    ran_seconds: float | None  # startedAt to finishedAt
    targets: int
    counts: Counts
    errors: list[str]
    worker_peak_mb: float
    web_peak_mb: float
    cpu: str  # the machine's CPUs from the POST to the end (bench.cpu)

    def problems(self, label: str, expected: Counts) -> list[str]:
        """What is wrong with the batch, given the statement's counts."""
        if self.status != "succeeded":
            return [f"the batch with {label} {self.status}: {self.errors[:3]}"]
        if self.counts != expected:
            found = differences(self.counts, expected)
            return [f"the batch with {label} against the statement (job/statement): {found}"]
        return []


def differences(found: Counts, expected: Counts, shown: int = 4) -> str:
    """Where two counts differ, as channel.reason found/expected, the first few of them."""
    pairs = sorted({(c, r) for counts in (found, expected) for c in counts for r in counts[c]})
    differ = [
        f"{c}.{r} {found.get(c, {}).get(r, 'absent')}/{expected.get(c, {}).get(r, 'absent')}"
        for c, r in pairs
        if found.get(c, {}).get(r, "absent") != expected.get(c, {}).get(r, "absent")
    ]
    more = f" and {len(differ) - shown} more" if len(differ) > shown else ""
    return ", ".join(differ[:shown]) + more


@dataclass(frozen=True)
class Latency:
    """The API's answers while the job ran."""

    submit: Endpoint
    poll: Endpoint
    idle_poll: Endpoint  # the same pollers afterwards, with nothing running
    small_batches: int
    problems: list[str]

    @classmethod
    def of(cls, stats: Stats, small: list[View], idle_poll: Endpoint) -> "Latency":
        problems = list(stats.samples)  # 5xx and exceptions
        problems += [
            f"small batch {view['id']} {view['status']}: {view['result']}"
            for view in small
            if view["status"] != "succeeded"
        ]
        submit, poll = (stats.endpoints.get(label, Endpoint()) for label in ("submit", "poll"))
        return cls(submit, poll, idle_poll, len(small), problems)


@dataclass(frozen=True)
class Undo:
    seconds: float
    worker_peak_mb: float  # of the run, to the end of the undo
    problems: list[str]


@dataclass(frozen=True)
class Export:
    seconds: float
    rows: int
    mb: float
    peak_mb: float
    api_seconds: float
    api_mb: float
    web_peak_mb: float  # of the run, to the end of the API's export
    problems: list[str]


@dataclass(frozen=True)
class Imported:
    bundle_seconds: float  # shared.imports.demo.write_demo_bundle
    seconds: float
    peak_mb: float


@dataclass(frozen=True)
class Size:
    students: int
    server: str
    seed_seconds: float
    copy_seconds: list[float]
    statement_seconds: float
    statement_counts: Counts
    statement_cpu: str
    one: Job  # 1 worker
    two: Job  # 2 workers
    one_latency: Latency
    latency: Latency  # with 2 workers
    undo: Undo
    export: Export
    imported: Imported

    @property
    def problems(self) -> list[str]:
        """The failed checks: every batch succeeded, the job's counts are the statement's, the
        undo's the job's, and no request failed."""
        return [
            *self.one.problems("1 worker", self.statement_counts),
            *self.two.problems("2 workers", self.statement_counts),
            *self.one_latency.problems,
            *self.latency.problems,
            *self.undo.problems,
            *self.export.problems,
        ]

    @property
    def worker_peak_mb(self) -> float:
        return max(self.one.worker_peak_mb, self.two.worker_peak_mb)
