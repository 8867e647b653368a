"""The tables. Entities carry the district's own identifier in `ext_id`; joins use integer ids."""

from shared.models.accounts import ApiToken, AuditEntry, LoginSession, User, user_schools
from shared.models.base import Base
from shared.models.batches import Batch, BatchChunk, batch_households, batch_targets, change_log
from shared.models.district import (
    Calendar,
    DistrictAssignment,
    Enrollment,
    Household,
    HouseholdMember,
    Person,
    Relationship,
    School,
)
from shared.models.filters import Filter
from shared.models.heartbeats import Heartbeat
from shared.models.imports import DefaultGrid, ImportFinding, ImportJob, QuarantinedAddress
from shared.models.preferences import preferences
from shared.models.schedules import Schedule, ScheduleRun

__all__ = [
    "ApiToken",
    "AuditEntry",
    "LoginSession",
    "Base",
    "Batch",
    "BatchChunk",
    "Calendar",
    "DefaultGrid",
    "DistrictAssignment",
    "Enrollment",
    "Filter",
    "Heartbeat",
    "Household",
    "HouseholdMember",
    "ImportFinding",
    "ImportJob",
    "Person",
    "QuarantinedAddress",
    "Relationship",
    "Schedule",
    "ScheduleRun",
    "School",
    "User",
    "batch_households",
    "batch_targets",
    "change_log",
    "preferences",
    "user_schools",
]
