"""Recovery in seconds with the default settings (docs/reliability.md): beat killed, alone or
with the worker (a node drained); a plan that the web committed but never sent (it died between
the two); and the other side of the promise: a chunk that is slow but alive is never sent again.

Like tests/test_faults.py, each test compares what the damaged run left with a clean run, and
records how long the batch took to move again and to finish.
"""

import contextlib
import re
import time
from typing import Any

import pytest
from sqlalchemy import text

from tests.support.fault_stack import FaultStack
from tests.support.fault_stack import faults as faults  # the fixture, for pytest to find here
from tests.support.faults import Stopwatch, failpoint, waiters
from tests.support.processes import kill_hard, log_text
from tests.test_faults import BODY, POINTS

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.redis]


@pytest.mark.parametrize("victims", ["beat", "beat and worker"])
def test_beat_killed_mid_batch(faults: FaultStack, victims: str, record_property: Any):
    """SIGKILL of beat (and of the worker's process group: a node drained) while a chunk is
    about to commit; a supervisor starts what died again. Without beat the batch goes on; with
    the worker gone too, the new worker sweeps as it starts and sends again what the dead one
    held."""
    with contextlib.ExitStack() as processes:
        beat = processes.enter_context(faults.beat())
        worker = processes.enter_context(faults.worker())
        clean = faults.clean_run([BODY])
        with failpoint(faults.pg_url, *POINTS["mid-chunk before commit"]) as stop:
            batch_id = faults.submit(BODY)
            stop.waiter()
            clock = Stopwatch()
            kill_hard(beat)
            if victims == "beat and worker":
                kill_hard(worker)
        processes.enter_context(faults.beat())
        if victims == "beat and worker":
            processes.enter_context(faults.worker())
        outcome = faults.outcome([batch_id])
        faults.recovered(record_property, clock, [batch_id])
    assert outcome == clean


def test_a_plan_the_web_committed_but_never_sent(faults: FaultStack, record_property: Any):
    """The web commits a submission and dies before it sends the plan's message (here: it sends
    none). The sweeper finds the batch unplanned, unlocked, in no queue and held by no worker,
    and plans it."""
    with faults.beat(), faults.worker():
        clean = faults.clean_run([BODY])
        faults.copies = 0
        clock = Stopwatch()
        batch_id = faults.submit(BODY)
        outcome = faults.outcome([batch_id])
        faults.recovered(record_property, clock, [batch_id])
    assert outcome == clean


def test_a_slow_live_chunk_is_never_sent_again(faults: FaultStack, record_property: Any):
    """A chunk held up (here at a failpoint, as by a long lock wait) holds its row for two
    sweeps: it is not sent again, so no copy waits behind it, and it applies once."""
    with faults.beat(), faults.worker(concurrency=2) as worker:
        clean = faults.clean_run([BODY])
        with failpoint(faults.pg_url, *POINTS["mid-chunk before commit"]) as stop:
            batch_id = faults.submit(BODY)
            held = stop.waiter()
            sweeps = log_text(worker).count("batches.sweep[")
            time.sleep(2 * faults.settings.sweep_interval_seconds + 1)
            swept = log_text(worker).count("batches.sweep[") - sweeps
            still = waiters(stop.connection)
            clock = Stopwatch()
        outcome = faults.outcome([batch_id])
        faults.recovered(record_property, clock, [batch_id])
        log = log_text(worker)
    with faults.engine.connect() as connection:
        attempts = connection.execute(
            text("SELECT attempts FROM batch_chunks WHERE batch_id = :id ORDER BY chunk_no"),
            {"id": batch_id},
        ).scalars()
        assert list(attempts) == [1, 1, 1, 1]
    assert swept >= 2 * 2  # each sweep is logged as received and as succeeded
    assert [waiter.backend_pid for waiter in still] == [held.backend_pid]
    assert not re.search(r"resent=[1-9]", log)
    assert outcome == clean
