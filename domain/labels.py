"""The one map from domain values to their Chinese labels."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from domain.enums import (
    AdmissionState,
    AssigneeRole,
    AssigneeState,
    AttendanceStatus,
    Choice,
    ExtensionState,
    FollowState,
    ItemKind,
    LimitUnit,
    MemberRole,
    NoticeLevel,
    OrgLevel,
    Rating,
    Reply,
    ReturnReason,
    Role,
    SessionKind,
    SessionMode,
    SessionState,
    SpeakerState,
    TaskEventKind,
    TaskSource,
    TaskState,
    TopicStatus,
    UnitKind,
    UnitType,
    VoteState,
    WhistleKind,
)

LABELS: dict[StrEnum, str] = {
    OrgLevel.CITY: "市",
    OrgLevel.DISTRICT: "区",
    OrgLevel.STREET: "街道",
    OrgLevel.COMMUNITY: "社区",
    UnitKind.STATIONED: "驻区单位",
    UnitKind.DEPARTMENT: "职能部门（条）",
    UnitKind.COMMUNITY: "社区",
    UnitKind.STREET_OFFICE: "街道办事处",
    UnitType.GOVERNMENT: "党政机关",
    UnitType.PUBLIC_INSTITUTION: "事业单位",
    UnitType.STATE_FIRM: "国有企业",
    UnitType.PRIVATE_FIRM: "非公企业",
    UnitType.SOCIAL_ORG: "社会组织",
    UnitType.MILITARY: "驻区部队",
    UnitType.JOINT_COMMITTEE: "楼宇/园区联合党委",
    UnitType.RESIDENTS_COMMITTEE: "社区居委会",
    UnitType.OTHER: "其他",
    Role.PLATFORM_ADMIN: "平台管理员",
    Role.DISTRICT_VIEWER: "区委组织部（只读）",
    Role.STREET_SECRETARY: "街道书记（召集人）",
    Role.SUPERVISOR: "督办员",
    Role.UNIT_LIAISON: "单位联络员",
    Role.DEPT_LIAISON: "部门联络员",
    Role.COMMUNITY_SECRETARY: "社区书记",
    Role.PARTY_MEMBER: "在职党员",
    MemberRole.MEMBER: "成员单位",
    MemberRole.OBSERVER: "列席单位",
    TopicStatus.SUBMITTED: "待处理",
    TopicStatus.ACCEPTED: "已采纳",
    TopicStatus.MERGED: "已合并",
    TopicStatus.REJECTED: "未采纳",
    SessionKind.REGULAR: "例会",
    SessionKind.AD_HOC: "临时会议",
    SessionMode.IN_PERSON: "现场会议",
    SessionMode.ONLINE: "线上会议",
    SessionState.PLANNED: "筹备中",
    SessionState.CALLING_TOPICS: "议题征集中",
    SessionState.AGENDA_SET: "议程已定",
    SessionState.NOTIFIED: "已通知",
    SessionState.IN_SESSION: "会议进行中",
    SessionState.MINUTES_DRAFT: "纪要起草中",
    SessionState.CO_SIGNING: "纪要会签中",
    SessionState.ISSUED: "纪要已印发",
    SessionState.ARCHIVED: "已归档",
    ItemKind.PROGRESS: "上次议定事项落实情况",
    ItemKind.NORMAL: "议题",
    Reply.NONE: "未回复",
    Reply.ATTENDING: "参会",
    Reply.LEAVE: "请假",
    Reply.DELEGATE: "委派代表",
    SpeakerState.WAITING: "等待发言",
    SpeakerState.SPEAKING: "正在发言",
    SpeakerState.FINISHED: "发言结束",
    SpeakerState.WITHDRAWN: "已撤回",
    VoteState.OPEN: "表决中",
    VoteState.CLOSED: "表决结束",
    Choice.FOR: "赞成",
    Choice.AGAINST: "反对",
    Choice.ABSTAIN: "弃权",
    FollowState.ASSIGNED: "已交办",
    FollowState.IN_PROGRESS: "办理中",
    FollowState.DONE: "已办结",
    AttendanceStatus.PRESENT: "出席",
    AttendanceStatus.DELEGATE: "委派代表出席",
    AttendanceStatus.LEAVE: "请假",
    AttendanceStatus.ABSENT: "缺席（未请假）",
    AttendanceStatus.OBSERVER: "列席",
    TaskSource.DECISION: "联席会议议定事项",
    TaskSource.WHISTLE: "吹哨报到",
    TaskSource.ASSIGNMENT: "街道交办",
    TaskSource.DEPT_HANDOFF: "部门下派",
    TaskSource.HOTLINE: "12345工单",
    WhistleKind.PUBLIC_CONCERN: "民生诉求",
    WhistleKind.ENFORCEMENT: "综合执法",
    WhistleKind.EMERGENCY: "应急处置",
    TaskState.DRAFTED: "草稿",
    TaskState.ASSIGNED: "已交办",
    TaskState.ACCEPTED: "已签收",
    TaskState.RETURN_REQUESTED: "申请退回",
    TaskState.IN_PROGRESS: "办理中",
    TaskState.EXTENSION_REQUESTED: "申请延期",
    TaskState.REPORTED: "已反馈",
    TaskState.REVIEWED: "已审核",
    TaskState.RATED: "已评价",
    TaskState.CLOSED: "已销号",
    TaskState.ARCHIVED: "已归档",
    AssigneeRole.LEAD: "主办",
    AssigneeRole.ASSIST: "协办",
    AssigneeState.PENDING: "待签收",
    AssigneeState.ACCEPTED_PART: "已签收",
    AssigneeState.RETURN_ASKED: "申请退回",
    AssigneeState.REFUSED: "拒收（准入外）",
    AssigneeState.REPORTED_PART: "已反馈",
    AssigneeState.RELEASED: "已改派",
    LimitUnit.WORKING_DAYS: "个工作日",
    LimitUnit.HOURS: "小时",
    LimitUnit.MINUTES: "分钟",
    ReturnReason.WRONG_AREA: "不属本辖区",
    ReturnReason.UNCLEAR_OWNERSHIP: "职责不清",
    ReturnReason.OVERLAPPING_DUTIES: "职责交叉",
    Rating.SATISFIED: "满意",
    Rating.BASICALLY_SATISFIED: "基本满意",
    Rating.DISSATISFIED: "不满意",
    ExtensionState.REQUESTED: "待审批",
    ExtensionState.APPROVED: "已同意",
    ExtensionState.REFUSED: "未同意",
    NoticeLevel.BLUE: "蓝色督办（临期）",
    NoticeLevel.YELLOW: "黄色督办（滞后）",
    NoticeLevel.RED: "红色督办（逾期）",
    NoticeLevel.REMINDER: "催办",
    NoticeLevel.BULLETIN: "通报",
    NoticeLevel.ESCALATION: "提级督办",
    TaskEventKind.TRANSITION: "流转",
    TaskEventKind.REPORT: "办理反馈",
    TaskEventKind.NOTICE: "督办",
    TaskEventKind.COMMENT: "留言",
    TaskEventKind.EXTENSION: "延期",
    TaskEventKind.RETURN: "退回",
    TaskEventKind.ASSIGNEE: "承办单位",
    AdmissionState.APPLIED: "待审核",
    AdmissionState.ADMITTED: "已准入",
    AdmissionState.DENIED: "不予准入",
    AdmissionState.WITHDRAWN: "已撤回",
}


# Stored values are plain strings; where two enums share a value they share the label too.
_BY_VALUE: dict[str, str] = {}
for _member, _text in LABELS.items():
    _BY_VALUE.setdefault(_member.value, _text)


def label(value: StrEnum | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, StrEnum):
        return LABELS.get(value, str(value))
    return _BY_VALUE.get(value, value)


E = TypeVar("E", bound=StrEnum)


def parse_label(enum: type[E], text: str) -> E | None:
    """Read an enum from either its value or its Chinese label (for imports)."""
    text = text.strip()
    for member in enum:
        if text in (member.value, LABELS.get(member)):
            return member
    return None
