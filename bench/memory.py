"""Peak memory of a service: the largest VmHWM of the processes in its process group.

A service is started in a session of its own (bench.stack.service), so its process group id is
the pid of its first process, and every process it forks (gunicorn's workers, Celery's pool)
stays in the group. VmHWM is a process's own high-water mark of resident memory; a process
that exits takes its figure with it, so PeakSampler reads the groups every half second.
"""

import threading
from pathlib import Path
from types import TracebackType

PROC = Path("/proc")
SAMPLE_SECONDS = 0.5


def group_pids(pgid: int) -> list[int]:
    """The processes whose process group is `pgid`."""
    pids = []
    for stat in PROC.glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # it exited meanwhile
            continue
        # Fields after the command name, which is in parentheses and may hold spaces:
        # state, ppid, pgrp (the fifth field of the line).
        fields = text[text.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid:
            pids.append(int(stat.parent.name))
    return pids


def vm_hwm_mb(pid: int) -> float:
    """The process's peak resident memory in MiB; 0 if it is gone."""
    try:
        lines = (PROC / str(pid) / "status").read_text().splitlines()
    except OSError:
        return 0.0
    for line in lines:
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # in kB
    return 0.0


def group_peak_mb(pgid: int) -> float:
    """The largest VmHWM of a single process of the group."""
    return max((vm_hwm_mb(pid) for pid in group_pids(pgid)), default=0.0)


class PeakSampler:
    """The peak per service (name -> process group id), read by a thread every half second
    while the block runs, and by `sample` on demand."""

    def __init__(self, groups: dict[str, int]) -> None:
        self.groups = groups
        self.peaks = dict.fromkeys(groups, 0.0)
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="peak-sampler", daemon=True)

    def __enter__(self) -> "PeakSampler":
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._done.set()
        self._thread.join()

    def sample(self) -> dict[str, float]:
        """Read every group now; the peaks so far."""
        with self._lock:
            for name, pgid in self.groups.items():
                self.peaks[name] = max(self.peaks[name], group_peak_mb(pgid))
            return dict(self.peaks)

    def _run(self) -> None:
        while not self._done.wait(SAMPLE_SECONDS):
            self.sample()
