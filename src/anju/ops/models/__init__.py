"""The operations database's models, one module per resource; importing this package registers them all."""

from anju.ops.models.audit import AuditEvent
from anju.ops.models.base import Base, UTCDateTime, utcnow
from anju.ops.models.community import (
    PROFILE_FIELDS,
    Community,
    CommunityGrid,
    CommunityProfile,
    profile_as_of,
    profile_history,
)
from anju.ops.models.duty_adjustment import ADJUSTMENT_KINDS, DutyAdjustment
from anju.ops.models.job import JOB_STATUSES, Job
from anju.ops.models.notice import Notice
from anju.ops.models.open311_partner import Open311Partner
from anju.ops.models.organisation import ORG_KINDS, Organisation
from anju.ops.models.plate import DoorPlate
from anju.ops.models.registry_check import CHECK_OUTCOMES, RegistryCheck
from anju.ops.models.resident_person import ResidentPerson
from anju.ops.models.resident_report import ReportEvent, ResidentReport
from anju.ops.models.safe_house import SAFE_HOUSE_STATUSES, SafeHouse
from anju.ops.models.session import LoginAttempt, WebSession
from anju.ops.models.supervision import (
    CASE_STATUSES,
    MEASURE_CATEGORIES,
    SupervisionCase,
    SupervisionMeasure,
    SupervisionSnapshot,
)
from anju.ops.models.task import TASK_STATUSES, Task, TaskReply
from anju.ops.models.user import SCOPE_LEVELS, User, UserScope

__all__ = [
    "ADJUSTMENT_KINDS",
    "CASE_STATUSES",
    "CHECK_OUTCOMES",
    "JOB_STATUSES",
    "MEASURE_CATEGORIES",
    "ORG_KINDS",
    "PROFILE_FIELDS",
    "SAFE_HOUSE_STATUSES",
    "SCOPE_LEVELS",
    "TASK_STATUSES",
    "AuditEvent",
    "Base",
    "Community",
    "CommunityGrid",
    "CommunityProfile",
    "DoorPlate",
    "DutyAdjustment",
    "Job",
    "LoginAttempt",
    "Notice",
    "Open311Partner",
    "Organisation",
    "RegistryCheck",
    "ReportEvent",
    "ResidentPerson",
    "ResidentReport",
    "SafeHouse",
    "SupervisionCase",
    "SupervisionMeasure",
    "SupervisionSnapshot",
    "Task",
    "TaskReply",
    "UTCDateTime",
    "User",
    "UserScope",
    "WebSession",
    "profile_as_of",
    "profile_history",
    "utcnow",
]
