"""The batch state machine and the rules of what may be done to a batch, without a database."""

from dataclasses import dataclass

import pytest

from shared.batches.rules import IllegalMove, moved, why_not_apply, why_not_cancel, why_not_undo
from shared.core.vocabulary import ACTIVE_STATUSES, FINAL_STATUSES, BatchStatus

QUEUED, RUNNING = BatchStatus.QUEUED, BatchStatus.RUNNING
SUCCEEDED, FAILED, CANCELLED = BatchStatus.SUCCEEDED, BatchStatus.FAILED, BatchStatus.CANCELLED


@dataclass(frozen=True)
class Facts:
    id: int = 7
    status: BatchStatus = SUCCEEDED
    dry_run: bool = False
    undo_of: int | None = None
    undone_by: int | None = None


@pytest.mark.parametrize(
    ("current", "reachable"),
    [
        (QUEUED, {RUNNING, FAILED, CANCELLED}),
        (RUNNING, {SUCCEEDED, FAILED, CANCELLED}),
        (SUCCEEDED, set()),
        (FAILED, set()),
        (CANCELLED, set()),
    ],
)
def test_a_batch_only_moves_forward(current: BatchStatus, reachable: set[BatchStatus]):
    for to in BatchStatus:
        if to in reachable:
            assert moved(current, to) is to
        else:
            with pytest.raises(IllegalMove, match=f"^a {current} batch cannot become {to}$"):
                moved(current, to)


def test_statuses_are_active_or_final():
    assert ACTIVE_STATUSES == (QUEUED, RUNNING)
    assert FINAL_STATUSES == (SUCCEEDED, FAILED, CANCELLED)
    assert [status.final for status in BatchStatus] == [False, False, True, True, True]


@pytest.mark.parametrize(
    ("facts", "reason"),
    [
        (Facts(), None),
        (Facts(status=FAILED), None),
        (Facts(status=CANCELLED), None),
        (Facts(status=QUEUED), "batch 7 is queued; undo it once it has finished"),
        (Facts(status=RUNNING), "batch 7 is running; undo it once it has finished"),
        (Facts(dry_run=True), "batch 7 is a preview; it changed nothing to undo"),
        (
            Facts(undo_of=3),
            "batch 7 is an undo, which cannot be undone; submit batch 3 again instead",
        ),
        (Facts(undone_by=9), "batch 7 was undone already, by batch 9"),
    ],
)
def test_why_a_batch_cannot_be_undone(facts: Facts, reason: str | None):
    assert why_not_undo(facts) == reason


@pytest.mark.parametrize(
    ("facts", "reason"),
    [
        (Facts(status=QUEUED), None),
        (Facts(status=RUNNING, dry_run=True), None),
        (Facts(status=SUCCEEDED), "batch 7 has finished (succeeded); there is nothing to stop"),
        (Facts(status=CANCELLED), "batch 7 has finished (cancelled); there is nothing to stop"),
        (Facts(status=RUNNING, undo_of=3), "batch 7 is an undo; an undo runs to its end"),
    ],
)
def test_why_a_batch_cannot_be_cancelled(facts: Facts, reason: str | None):
    assert why_not_cancel(facts) == reason


@pytest.mark.parametrize(
    ("facts", "reason"),
    [
        (Facts(dry_run=True), None),
        (Facts(), "batch 7 is not a preview"),
        (
            Facts(dry_run=True, status=RUNNING),
            "preview 7 is running; apply a preview that succeeded",
        ),
        (Facts(dry_run=True, status=FAILED), "preview 7 is failed; apply a preview that succeeded"),
    ],
)
def test_why_a_batch_cannot_be_applied(facts: Facts, reason: str | None):
    assert why_not_apply(facts) == reason
