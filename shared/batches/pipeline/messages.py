"""The messages the pipeline's steps ask to send: a task's name and its ids, nothing else (no
lists of people, no rows), so a message stays small and means the same when delivered twice."""

from dataclasses import dataclass
from typing import Final

PLAN: Final = "batches.plan"
APPLY_CHUNK: Final = "batches.apply_chunk"
SWEEP: Final = "batches.sweep"


@dataclass(frozen=True)
class Message:
    task: str
    args: tuple[int, ...]


def plan(batch_id: int) -> Message:
    return Message(PLAN, (batch_id,))


def apply_chunk(batch_id: int, chunk_no: int) -> Message:
    return Message(APPLY_CHUNK, (batch_id, chunk_no))
