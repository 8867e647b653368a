"""The tick: beat sends it every 30 seconds or so, and it records every due run once.

For each enabled schedule with due times after its `due_after` mark, one transaction locks the
schedule's row, decides again what is due (another beat may have just recorded it), records the
missed due times as skipped, claims the one that runs (creating its batch), and moves the mark
on. A schedule that fails is logged and left for the next tick; the others go on. The messages
of the batches created are sent only after every transaction has committed; a message lost on
the way (the process killed after a commit) is sent again by the sweeper, which finds the batch
queued and unplanned.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.batches.pipeline.messages import Message
from shared.core.db import SessionFactory
from shared.core.logs import bound
from shared.models import Schedule
from shared.schedules.catch_up import Decision, decide
from shared.schedules.rules import RuleRequest
from shared.schedules.runs import claim_run, record_skipped

log = logging.getLogger(__name__)

TICK: Final = "schedules.tick"

# Due times recorded per schedule and tick, at most: bounds a tick after a long outage of an
# every-minute schedule (the rest are recorded by the next ticks).
DECISIONS_PER_TICK = 1000


@dataclass
class TickReport:
    ran: int = 0
    failed: int = 0
    skipped: int = 0
    errors: int = 0
    messages: list[Message] = field(default_factory=list)


def tick(factory: SessionFactory, now: datetime, zone: ZoneInfo) -> TickReport:
    report = TickReport()
    with factory() as session:
        due = session.execute(
            select(Schedule.id, Schedule.rule, Schedule.due_after, Schedule.catch_up_hours)
            .where(Schedule.enabled, Schedule.deleted_at.is_(None), Schedule.due_after < now)
            .order_by(Schedule.id)
        ).all()
    for schedule_id, rule, due_after, hours in due:
        if not _decisions(rule, zone, due_after, hours, now):
            continue
        with bound(schedule=schedule_id):  # on every line logged meanwhile
            try:
                with factory.begin() as session:
                    _record(session, schedule_id, zone, now, report)
            except Exception:
                report.errors += 1
                log.exception("tick failed; the next tick tries again")
    return report


def _record(
    session: Session, schedule_id: int, zone: ZoneInfo, now: datetime, report: TickReport
) -> None:
    schedule = session.get(Schedule, schedule_id, with_for_update=True, populate_existing=True)
    if schedule is None or not schedule.enabled or schedule.deleted_at is not None:
        return
    decisions = _decisions(schedule.rule, zone, schedule.due_after, schedule.catch_up_hours, now)
    for decision in decisions:
        if not decision.runs:
            report.skipped += record_skipped(
                session, schedule, decision.due_at, decision.reason or "skipped"
            )
            continue
        claimed = claim_run(session, schedule, decision.due_at, zone)
        if claimed is None:
            continue
        if claimed.run.batch_id is None:
            report.failed += 1
        else:
            report.ran += 1
            report.messages.extend(claimed.messages)
    if decisions:
        schedule.due_after = decisions[-1].due_at


def _decisions(
    rule: dict[str, object], zone: ZoneInfo, due_after: datetime, hours: float, now: datetime
) -> list[Decision]:
    return decide(
        RuleRequest.model_validate(rule).rule(),
        zone,
        since=due_after,
        now=now,
        window=timedelta(hours=hours),
        limit=DECISIONS_PER_TICK,
    )
