"""What a batch may become and what may be done to it: each rule written once, used by the
actions (which refuse with the rule's reason) and by the pages (which offer only what is allowed).

A batch is queued, then running, then succeeded, failed or cancelled, and never goes back. A
queued batch may fail (its plan could not run) or be cancelled before it starts.
"""

from typing import Final, Protocol

from shared.core.vocabulary import ACTIVE_STATUSES, BatchStatus

MOVES: Final = {
    BatchStatus.QUEUED: frozenset({BatchStatus.RUNNING, BatchStatus.FAILED, BatchStatus.CANCELLED}),
    BatchStatus.RUNNING: frozenset(
        {BatchStatus.SUCCEEDED, BatchStatus.FAILED, BatchStatus.CANCELLED}
    ),
}


class IllegalMove(ValueError):
    """A step tried to move a batch to a status it cannot reach from where it is: a bug."""


class BatchFacts(Protocol):
    """What the rules read of a batch: a stored batch with what other rows say of it, or its
    view."""

    @property
    def id(self) -> int: ...
    @property
    def status(self) -> BatchStatus: ...
    @property
    def dry_run(self) -> bool: ...
    @property
    def undo_of(self) -> int | None: ...
    @property
    def undone_by(self) -> int | None: ...


def moved(current: BatchStatus, to: BatchStatus) -> BatchStatus:
    """`to`, if a batch in `current` may move there."""
    if to not in MOVES.get(current, frozenset()):
        raise IllegalMove(f"a {current} batch cannot become {to}")
    return to


def why_not_undo(batch: BatchFacts) -> str | None:
    """Why the batch cannot be undone, or None: it has finished, was not a preview or an undo,
    and was not undone already."""
    if batch.status in ACTIVE_STATUSES:
        return f"batch {batch.id} is {batch.status}; undo it once it has finished"
    if batch.dry_run:
        return f"batch {batch.id} is a preview; it changed nothing to undo"
    if batch.undo_of is not None:
        return (
            f"batch {batch.id} is an undo, which cannot be undone; "
            f"submit batch {batch.undo_of} again instead"
        )
    if batch.undone_by is not None:
        return f"batch {batch.id} was undone already, by batch {batch.undone_by}"
    return None


def why_not_cancel(batch: BatchFacts) -> str | None:
    """Why the batch cannot be cancelled, or None. An undo is not cancelled: stopped half way it
    would leave values restored here and not there, with no undo left to finish it."""
    if batch.status not in ACTIVE_STATUSES:
        return f"batch {batch.id} has finished ({batch.status}); there is nothing to stop"
    if batch.undo_of is not None:
        return f"batch {batch.id} is an undo; an undo runs to its end"
    return None


def why_not_apply(batch: BatchFacts) -> str | None:
    """Why the batch is not a preview that can be applied, or None. (A preview applied already
    is applied again as the same batch: that is not a refusal.)"""
    if not batch.dry_run:
        return f"batch {batch.id} is not a preview"
    if batch.status != BatchStatus.SUCCEEDED:
        return f"preview {batch.id} is {batch.status}; apply a preview that succeeded"
    return None
