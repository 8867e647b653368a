"""How the machine's CPUs spent an interval, from the first line of /proc/stat: busy (user,
system, interrupts), waiting for I/O, or idle. It tells whether a run was held back by the
cores or by the disk."""

from dataclasses import dataclass
from pathlib import Path

STAT = Path("/proc/stat")


@dataclass(frozen=True)
class CpuTimes:
    busy: int  # clock ticks, over all cores
    iowait: int
    idle: int

    @classmethod
    def now(cls) -> "CpuTimes":
        # cpu user nice system idle iowait irq softirq steal ...
        ticks = [int(field) for field in STAT.read_text().splitlines()[0].split()[1:9]]
        user, nice, system, idle, iowait, irq, softirq, steal = ticks
        return cls(user + nice + system + irq + softirq + steal, iowait, idle)

    def since(self, start: "CpuTimes") -> str:
        """The shares of the interval from `start`, as "busy 93%, iowait 4%"."""
        busy, iowait = self.busy - start.busy, self.iowait - start.iowait
        total = busy + iowait + self.idle - start.idle
        if total <= 0:
            return "-"
        return f"busy {busy / total:.0%}, iowait {iowait / total:.0%}"
