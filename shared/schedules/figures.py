"""The figures that monitoring reads at each scrape (web/metrics.py): batches by kind, mode and
status (an import is a batch of kind `import`, without a mode; an undo has the mode of the batch
it undoes), and schedule runs by outcome.

Each is one GROUP BY over a small table (a row per batch, a row per scheduled due time), never
over the tables with a row per person, target or change. Every combination the vocabulary allows
is counted, 0 included, so that a series exists before its first batch (an alert on failed
batches then has something to compare with)."""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.core.vocabulary import BatchKind, BatchStatus, Mode, RunStatus
from shared.models import Batch, ScheduleRun

BatchGroup = tuple[BatchKind, Mode | None, BatchStatus]


@dataclass(frozen=True)
class Figures:
    batches: dict[BatchGroup, int]
    runs: dict[RunStatus, int]


def figures(session: Session) -> Figures:
    batches = dict.fromkeys(_every_batch_group(), 0)
    counted = select(Batch.kind, Batch.mode, Batch.status, func.count()).group_by(
        Batch.kind, Batch.mode, Batch.status
    )
    for kind, mode, status, count in session.execute(counted):
        batches[(kind, mode, status)] = count
    runs = dict.fromkeys(RunStatus, 0)
    by_outcome = select(ScheduleRun.status, func.count()).group_by(ScheduleRun.status)
    for outcome, runs_of_outcome in session.execute(by_outcome):
        runs[outcome] = runs_of_outcome
    return Figures(batches, runs)


def _every_batch_group() -> list[BatchGroup]:
    modes: dict[BatchKind, tuple[Mode | None, ...]] = {
        BatchKind.BATCH: tuple(Mode),
        BatchKind.UNDO: tuple(Mode),
        BatchKind.IMPORT: (None,),
    }
    return [
        (kind, mode, status) for kind in BatchKind for mode in modes[kind] for status in BatchStatus
    ]
