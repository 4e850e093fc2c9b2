"""Enumerations of the domain. Values are stored as strings; labels live in `labels.py`."""

from __future__ import annotations

from enum import StrEnum


class OrgLevel(StrEnum):
    CITY = "city"
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"

    @property
    def parent_level(self) -> OrgLevel | None:
        order = list(OrgLevel)
        i = order.index(self)
        return order[i - 1] if i > 0 else None


class UnitKind(StrEnum):
    STATIONED = "stationed"  # 驻区单位
    DEPARTMENT = "department"  # 职能部门（条）
    COMMUNITY = "community"  # 社区
    STREET_OFFICE = "street_office"  # 街道办事处


class UnitType(StrEnum):
    GOVERNMENT = "government"  # 党政机关
    PUBLIC_INSTITUTION = "public_institution"  # 事业单位
    STATE_FIRM = "state_firm"  # 国有企业
    PRIVATE_FIRM = "private_firm"  # 非公企业
    SOCIAL_ORG = "social_org"  # 社会组织
    MILITARY = "military"  # 驻区部队
    JOINT_COMMITTEE = "joint_committee"  # 楼宇/园区联合党委
    RESIDENTS_COMMITTEE = "residents_committee"  # 社区居委会
    OTHER = "other"


class Role(StrEnum):
    PLATFORM_ADMIN = "platform_admin"
    DISTRICT_VIEWER = "district_viewer"
    CITY_VIEWER = "city_viewer"  # 市委组织部: read-only over every district of the city
    STREET_SECRETARY = "street_secretary"
    SUPERVISOR = "supervisor"
    UNIT_LIAISON = "unit_liaison"
    DEPT_LIAISON = "dept_liaison"
    COMMUNITY_SECRETARY = "community_secretary"
    PARTY_MEMBER = "party_member"


class RoleScope(StrEnum):
    NONE = "none"
    ORGANIZATION = "organization"
    UNIT = "unit"


# What a grant of each role must be attached to, and at which level.
ROLE_SCOPE: dict[Role, tuple[RoleScope, OrgLevel | None]] = {
    Role.PLATFORM_ADMIN: (RoleScope.NONE, None),
    Role.DISTRICT_VIEWER: (RoleScope.ORGANIZATION, OrgLevel.DISTRICT),
    Role.CITY_VIEWER: (RoleScope.ORGANIZATION, OrgLevel.CITY),
    Role.STREET_SECRETARY: (RoleScope.ORGANIZATION, OrgLevel.STREET),
    Role.SUPERVISOR: (RoleScope.ORGANIZATION, OrgLevel.STREET),
    Role.UNIT_LIAISON: (RoleScope.UNIT, None),
    Role.DEPT_LIAISON: (RoleScope.UNIT, None),
    Role.COMMUNITY_SECRETARY: (RoleScope.ORGANIZATION, OrgLevel.COMMUNITY),
    # A member registers with the community where they live (双报到).
    Role.PARTY_MEMBER: (RoleScope.ORGANIZATION, OrgLevel.COMMUNITY),
}


class MemberRole(StrEnum):
    MEMBER = "member"  # 成员单位: votes and co-signs
    OBSERVER = "observer"  # 列席单位: attends and reads


class TopicStatus(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    MERGED = "merged"
    REJECTED = "rejected"


class SessionKind(StrEnum):
    REGULAR = "regular"  # 例会
    AD_HOC = "ad_hoc"  # 临时会议


class SessionMode(StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"


class SessionState(StrEnum):
    PLANNED = "planned"
    CALLING_TOPICS = "calling_topics"
    AGENDA_SET = "agenda_set"
    NOTIFIED = "notified"
    IN_SESSION = "in_session"
    MINUTES_DRAFT = "minutes_draft"
    CO_SIGNING = "co_signing"
    ISSUED = "issued"
    ARCHIVED = "archived"


class ItemKind(StrEnum):
    PROGRESS = "progress"  # 上次议定事项落实情况
    NORMAL = "normal"


class Reply(StrEnum):
    NONE = "none"
    ATTENDING = "attending"
    LEAVE = "leave"  # 请假
    DELEGATE = "delegate"  # 委派代表


class SpeakerState(StrEnum):
    WAITING = "waiting"
    SPEAKING = "speaking"
    FINISHED = "finished"
    WITHDRAWN = "withdrawn"


class VoteState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Choice(StrEnum):
    FOR = "for"
    AGAINST = "against"
    ABSTAIN = "abstain"


class FollowState(StrEnum):
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class AttendanceStatus(StrEnum):
    """How a unit took part in a session, as the minutes record it (worked out, not stored)."""

    PRESENT = "present"  # 出席
    DELEGATE = "delegate_present"  # 委派代表出席
    LEAVE = "on_leave"  # 请假
    ABSENT = "absent"  # 缺席（未请假）
    OBSERVER = "observer_present"  # 列席


# Task handoff (条块交办) ---------------------------------------------------------------


class TaskSource(StrEnum):
    DECISION = "decision"  # 联席会议议定事项
    WHISTLE = "whistle"  # 吹哨报到
    ASSIGNMENT = "assignment"  # 街道交办
    DEPT_HANDOFF = "dept_handoff"  # 部门下派社区
    HOTLINE = "hotline"  # 12345 接诉即办工单


class WhistleKind(StrEnum):
    PUBLIC_CONCERN = "public_concern"  # 民生诉求
    ENFORCEMENT = "enforcement"  # 综合执法
    EMERGENCY = "emergency"  # 应急处置


class TaskState(StrEnum):
    DRAFTED = "drafted"
    ASSIGNED = "assigned"
    ACCEPTED = "signed_for"  # 已签收 (values stay unique across enums: see labels.py)
    RETURN_REQUESTED = "return_requested"
    IN_PROGRESS = "in_progress"
    EXTENSION_REQUESTED = "extension_requested"
    REPORTED = "reported"
    REVIEWED = "reviewed"
    RATED = "rated"
    CLOSED = "closed_out"  # 已销号
    ARCHIVED = "archived"


class AssigneeRole(StrEnum):
    LEAD = "lead"  # 主办
    ASSIST = "assist"  # 协办


class AssigneeState(StrEnum):
    """One handling unit's own progress on a task."""

    PENDING = "pending"  # 待签收
    ACCEPTED_PART = "accepted_part"  # 已签收
    RETURN_ASKED = "return_asked"  # 申请退回
    REFUSED = "refused"  # 准入外事项，社区拒收（不扣分）
    REPORTED_PART = "reported_part"  # 已反馈
    RELEASED = "released"  # 改派后不再承办


class LimitUnit(StrEnum):
    WORKING_DAYS = "working_days"
    HOURS = "hours"
    MINUTES = "minutes"


class ReturnReason(StrEnum):
    WRONG_AREA = "wrong_area"  # 不属本辖区
    UNCLEAR_OWNERSHIP = "unclear_ownership"  # 职责不清
    OVERLAPPING_DUTIES = "overlapping_duties"  # 职责交叉


class Rating(StrEnum):
    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    DISSATISFIED = "dissatisfied"


class ExtensionState(StrEnum):
    REQUESTED = "ext_requested"
    APPROVED = "ext_approved"
    REFUSED = "ext_refused"


class NoticeLevel(StrEnum):
    """Supervision notices (督办), in escalating order."""

    BLUE = "blue"  # 临期
    YELLOW = "yellow"  # 进度滞后
    RED = "red"  # 逾期
    REMINDER = "reminder"  # 催办
    BULLETIN = "bulletin"  # 通报
    ESCALATION = "escalation"  # 提级督办


class TaskEventKind(StrEnum):
    TRANSITION = "transition"
    REPORT = "report"
    NOTICE = "notice"
    COMMENT = "comment"
    EXTENSION = "extension"
    RETURN = "return"
    ASSIGNEE = "assignee"  # one unit accepted / reported / was released


class AdmissionState(StrEnum):
    APPLIED = "applied"
    ADMITTED = "admitted"
    DENIED = "denied"
    WITHDRAWN = "withdrawn"


# Resource sharing (三张清单) --------------------------------------------------------------


class ListingState(StrEnum):
    """A need or a resource on its way to the lists: the street vets it first."""

    PENDING = "pending_vetting"  # 待审核
    LISTED = "listed"  # 已上架
    REJECTED = "vet_rejected"  # 未通过
    WITHDRAWN = "unlisted"  # 已下架
    FULFILLED = "fulfilled"  # 已满足 / 已用完


class ResourceKind(StrEnum):
    VENUE = "venue"  # 场地
    EQUIPMENT = "equipment"  # 设备
    VOLUNTEERS = "volunteers"  # 志愿者
    EXPERTISE = "expertise"  # 专业技术
    FUNDS = "funds"  # 资金
    SERVICE = "service"  # 服务


class BookingState(StrEnum):
    REQUESTED = "booking_requested"
    APPROVED = "booking_approved"
    DECLINED = "booking_declined"
    CANCELLED = "booking_cancelled"


class ClaimDirection(StrEnum):
    UNIT_CLAIMS_NEED = "claims_need"  # 单位认领需求
    COMMUNITY_REQUESTS_RESOURCE = "requests_resource"  # 社区申请资源


class ClaimState(StrEnum):
    PENDING = "claim_pending"
    ACCEPTED = "claim_accepted"
    DECLINED = "claim_declined"
    WITHDRAWN = "claim_withdrawn"


class ProjectState(StrEnum):
    """共建项目: agreed, in progress, completed, rated by the party that raised the need;
    an unfinished one is carried over to next year."""

    AGREED = "project_agreed"
    IN_PROGRESS = "project_in_progress"
    COMPLETED = "project_completed"
    RATED = "project_rated"
    CARRIED_OVER = "carried_over"


# --- activities and 双报到 (values stay unique across enums: labels map by value) -----------


class ActivityKind(StrEnum):
    THEMED_DAY = "themed_day"  # 主题党日
    JOINT = "joint_activity"  # 联合活动
    VOLUNTEER = "volunteer_service"  # 志愿服务


class SignupRule(StrEnum):
    OPEN = "signup_open"  # 报名即确认
    APPROVAL = "signup_approval"  # 报名需组织方审核


class ActivityState(StrEnum):
    """The series (or one-off activity) as a whole."""

    PLANNED = "activity_planned"  # 筹备中: visible to hosts, no sign-up yet
    ANNOUNCED = "activity_announced"  # 已发布: on the calendar, open for sign-up
    CANCELLED = "activity_cancelled"


class OccurrenceState(StrEnum):
    """One date of an activity: a one-off has one, a recurring series many."""

    SCHEDULED = "occ_scheduled"
    CANCELLED = "occ_cancelled"  # an exception for a single date, or the whole series
    SETTLED = "occ_settled"  # attendance closed: hours and points posted


class SignupState(StrEnum):
    PENDING = "signup_pending"  # awaiting the organiser's approval
    CONFIRMED = "signup_confirmed"  # holds a seat
    WAITLISTED = "signup_waitlisted"
    DECLINED = "signup_declined"
    CANCELLED = "signup_cancelled"


class AttendanceMark(StrEnum):
    """Set on a confirmed sign-up when the occurrence is settled."""

    ATTENDED = "attended"
    NO_SHOW = "no_show"


class CheckinMethod(StrEnum):
    QR = "checkin_qr"  # the member scanned the code at the venue
    ORGANISER = "checkin_organiser"  # the organiser ticked the member off


class PointSource(StrEnum):
    ACTIVITY = "point_activity"  # attended an activity (hours and points at settlement)
    POST = "point_post"  # service on a claimed post (服务岗位), entered by the community
    ADJUST = "point_adjust"  # a correction, with a reason (may be negative)


class RegistrationState(StrEnum):
    """双报到: a unit's report-in slip or a member's registration, confirmed by the community."""

    SUBMITTED = "reg_submitted"
    CONFIRMED = "reg_confirmed"
    RETURNED = "reg_returned"  # sent back with a reason; may be corrected and resubmitted
    ENDED = "reg_ended"  # withdrawn, moved away, or the year ended


class PostClaimState(StrEnum):
    CLAIMED = "post_claimed"
    RELEASED = "post_released"


# --- emerging-sector coverage, evaluation, bulletins (issue #8) ----------------------------


class CarrierKind(StrEnum):
    """Where emerging-sector organisations gather (新兴领域党建的载体)."""

    TOWER = "carrier_tower"  # 商务楼宇（竖起来的园区）
    PARK = "carrier_park"  # 园区
    ZONE = "carrier_zone"  # 园区片区 (a zone inside a park)
    MARKET = "carrier_market"  # 商圈市场
    INTERNET = "carrier_internet"  # 互联网企业集聚区


class OrgCategory(StrEnum):
    ENTERPRISE = "org_enterprise"  # 企业
    SOCIAL = "org_social"  # 社会组织


class CoverageMode(StrEnum):
    """How an emerging-sector organisation's party members are organised."""

    OWN = "cov_own"  # 单独建立党组织
    JOINT = "cov_joint"  # 联合党组织
    DELEGATED = "cov_delegated"  # 委托街道/社区党组织管理
    ASSOCIATION = "cov_association"  # 依托行业协会、商会
    CHAIN = "cov_chain"  # 依托产业链（委托）
    NONE = "cov_none"  # 未覆盖


class ReportState(StrEnum):
    """A secretary's responsibility report (述职报告)."""

    DRAFT = "report_draft"
    SUBMITTED = "report_submitted"


class BulletinState(StrEnum):
    """The monthly bulletin (调度通报): generated, reviewed by the secretary, published."""

    DRAFT = "bulletin_draft"
    PUBLISHED = "bulletin_published"
