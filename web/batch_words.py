"""A batch in a district administrator's words, for the batch page and the history: its status,
scope and filter by name, its progress in people, and its result as sentences ("Changed 340
values", "Reached 120 people and 45 households"), with the states a count alone would misstate
(a cancelled batch that applied nothing, a batch with nobody to update)."""

from dataclasses import dataclass
from typing import Final

from shared.batches.catalog import Names
from shared.batches.views import BatchView
from shared.core.grids import Counts
from shared.core.vocabulary import BatchKind, BatchStatus, Mode

STATUS_LABELS: Final = {
    BatchStatus.QUEUED: "Queued",
    BatchStatus.RUNNING: "Running",
    BatchStatus.SUCCEEDED: "Finished",
    BatchStatus.FAILED: "Failed",
    BatchStatus.CANCELLED: "Cancelled",
}


def plural(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def total(counts: Counts | None) -> int:
    """The values of a result table, its No Change cells left out."""
    if counts is None:
        return 0
    return sum(value or 0 for _, reasons in counts.items() for _, value in reasons.items())


def scope_words(batch: BatchView, names: Names) -> str:
    if batch.mode == Mode.CENSUS or batch.scope is None:
        return "Everyone the filter matches"
    scope = batch.scope
    if scope.calendar_id:
        name = names.calendars.get(scope.calendar_id)
        return f"Calendar {name}" if name else f"Calendar {scope.calendar_id} (no longer exists)"
    if scope.school_id:
        school = names.schools.get(scope.school_id, f"{scope.school_id} (no longer exists)")
        return f"{school}, {scope.school_year}"
    return f"The whole district, {scope.school_year}"


def filter_words(batch: BatchView, names: Names) -> str | None:
    if batch.filter_id is None:
        return None
    return names.filters.get(batch.filter_id, f"a deleted filter (no. {batch.filter_id})")


@dataclass(frozen=True)
class ProgressWords:
    done: int
    total: int
    text: str


def progress_words(batch: BatchView) -> ProgressWords:
    """People done of the targets; the bar is full only when everyone was done."""
    people = batch.progress.people
    if not batch.progress.total and batch.status.final:  # no chunk: no target, or never planned
        nobody = batch.status == BatchStatus.SUCCEEDED
        return ProgressWords(0, 0, "Nobody to update" if nobody else "")
    if not batch.progress.total:
        return ProgressWords(0, 0, "Finding whom to update")
    return ProgressWords(
        people.done, people.total, f"{people.done:,} of {plural(people.total, 'person', 'people')}"
    )


def result_words(batch: BatchView) -> list[str]:
    """The result as sentences, most important first."""
    result = batch.result
    if result is None:
        return []
    if batch.kind == BatchKind.UNDO:
        return [
            f"Restored {plural(total(result.counts), 'value', 'values')}.",
            f"Left {plural(total(result.conflicts), 'value', 'values')} as they are because "
            "they changed after the batch.",
        ]
    would = batch.dry_run
    changed = total(result.counts)
    lines = [f"{'Would change' if would else 'Changed'} {plural(changed, 'value', 'values')}."]
    if batch.status == BatchStatus.CANCELLED and batch.progress.people.done == 0:
        lines = ["Cancelled before it changed anything."]
    if batch.progress.total or batch.status == BatchStatus.SUCCEEDED:  # it was planned
        lines.insert(0, f"Found {plural(result.targets, 'person', 'people')} to update.")
    if result.reached is not None:
        lines.append(
            f"{'Would reach' if would else 'Reached'} "
            f"{plural(result.reached.people, 'person', 'people')} and "
            f"{plural(result.reached.households, 'household', 'households')}."
        )
    if batch.keep_guardian_choices:
        lines.append(
            f"{'Would keep' if would else 'Kept'} "
            f"{plural(total(result.kept), 'value', 'values')} as guardians set them."
        )
    if result.skipped is not None and result.skipped.no_address:
        lines.append(
            f"Skipped {plural(result.skipped.no_address, 'person', 'people')} with no address "
            "on the channels it sets."
        )
    return lines


def may_undo(batch: BatchView, why_not: str | None) -> bool:
    """The page offers Undo only where something can be undone: the rules allow it and the
    batch changed a value (the API still accepts the undo of one that changed nothing)."""
    return why_not is None and total(batch.result.counts if batch.result else None) > 0
