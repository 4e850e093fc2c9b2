"""Persistent entities (SQLAlchemy declarative mapping).

Relationships default to `lazy="raise"`: under asyncio a lazy load inside a
template fails far from its cause, so every query says what it loads.
"""

from domain.models.activities import (
    Activity,
    ActivityHost,
    ActivityOccurrence,
    ActivityReminder,
    CalendarFeed,
    MakeupRecord,
    PointEntry,
    Signup,
)
from domain.models.audit import AuditEntry
from domain.models.base import Base
from domain.models.conference import (
    AgendaItem,
    Attendance,
    Ballot,
    Conference,
    ConferenceMember,
    Decision,
    Material,
    MeetingSession,
    Minutes,
    MinutesSignature,
    Rotation,
    SecretariatMember,
    SpeakerRequest,
    SpecialCommittee,
    TopicProposal,
    Vote,
)
from domain.models.coverage import Carrier, CoverageSnapshot, EmergingOrg
from domain.models.dual_report import (
    FeedbackDispatch,
    MemberRegistration,
    PostClaim,
    ServicePost,
    UnitRegistration,
)
from domain.models.evaluation import Bulletin, ResponsibilityReport
from domain.models.identity import ApiToken, LoginFailure, RoleGrant, User, WebSession
from domain.models.live import Event, Notification
from domain.models.org import Organization, Unit
from domain.models.settings import StreetSetting
from domain.models.sharing import (
    Booking,
    Claim,
    Need,
    Project,
    ProjectUpdate,
    Resource,
    ResourceSlot,
)
from domain.models.tasks import (
    AdmissionItem,
    CalendarDay,
    CalendarYear,
    DigestRecord,
    ExtensionRequest,
    SupervisionNotice,
    Task,
    TaskAssignee,
    TaskEvent,
    TaskReport,
)

__all__ = [
    "Activity",
    "ActivityHost",
    "ActivityOccurrence",
    "ActivityReminder",
    "AdmissionItem",
    "AgendaItem",
    "ApiToken",
    "Attendance",
    "AuditEntry",
    "Ballot",
    "Base",
    "Booking",
    "Bulletin",
    "CalendarDay",
    "CalendarFeed",
    "CalendarYear",
    "Carrier",
    "Claim",
    "Conference",
    "ConferenceMember",
    "CoverageSnapshot",
    "Decision",
    "DigestRecord",
    "EmergingOrg",
    "Event",
    "ExtensionRequest",
    "FeedbackDispatch",
    "LoginFailure",
    "MakeupRecord",
    "Material",
    "MeetingSession",
    "MemberRegistration",
    "Minutes",
    "MinutesSignature",
    "Need",
    "Notification",
    "Organization",
    "PointEntry",
    "PostClaim",
    "Project",
    "ProjectUpdate",
    "Resource",
    "ResourceSlot",
    "ResponsibilityReport",
    "RoleGrant",
    "Rotation",
    "SecretariatMember",
    "ServicePost",
    "Signup",
    "SpeakerRequest",
    "SpecialCommittee",
    "StreetSetting",
    "SupervisionNotice",
    "Task",
    "TaskAssignee",
    "TaskEvent",
    "TaskReport",
    "TopicProposal",
    "Unit",
    "UnitRegistration",
    "User",
    "Vote",
    "WebSession",
]
