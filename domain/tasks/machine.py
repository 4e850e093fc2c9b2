"""The task state machine: one table of allowed transitions, each for one party.

Pure: services ask `check(state, action, parties)` before they change a task,
and the property-based test drives the same table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.enums import TaskState
from domain.errors import Conflict, PermissionDenied
from domain.labels import label

S = TaskState


class Party(StrEnum):
    """How the acting user stands to a task."""

    ASSIGNER = "assigner"  # acts for the assigning unit (street office, or the department)
    LEAD = "lead"  # acts for the lead handling unit (主办)
    ASSISTANT = "assistant"  # acts for an assisting unit (协办)
    DISTRICT = "district"  # the district above the street (rules on disputes)
    SYSTEM = "system"  # the supervision clock


class Action(StrEnum):
    ASSIGN = "assign"
    ACCEPT = "accept"
    REQUEST_RETURN = "request_return"
    REASSIGN = "reassign"
    INSIST = "insist"
    RULE = "rule"
    START = "start"
    REQUEST_EXTENSION = "request_extension"
    APPROVE_EXTENSION = "approve_extension"
    REFUSE_EXTENSION = "refuse_extension"
    REPORT = "report"
    PASS_REVIEW = "pass_review"
    FAIL_REVIEW = "fail_review"
    RATE = "rate"
    RATE_DISSATISFIED = "rate_dissatisfied"
    CLOSE = "close"
    ARCHIVE = "archive"


@dataclass(frozen=True)
class Transition:
    action: Action
    sources: frozenset[TaskState]
    target: TaskState
    parties: frozenset[Party]
    verb: str  # what the user tried, for messages: "签收"


def _t(
    action: Action, sources: set[TaskState], target: TaskState, parties: set[Party], verb: str
) -> Transition:
    return Transition(action, frozenset(sources), target, frozenset(parties), verb)


A, P = Action, Party
TRANSITIONS: dict[Action, Transition] = {
    t.action: t
    for t in (
        _t(A.ASSIGN, {S.DRAFTED}, S.ASSIGNED, {P.ASSIGNER}, "交办"),
        _t(A.ACCEPT, {S.ASSIGNED}, S.ACCEPTED, {P.LEAD}, "签收"),
        _t(A.REQUEST_RETURN, {S.ASSIGNED}, S.RETURN_REQUESTED, {P.LEAD}, "申请退回"),
        _t(A.REASSIGN, {S.RETURN_REQUESTED}, S.ASSIGNED, {P.ASSIGNER}, "改派"),
        _t(A.INSIST, {S.RETURN_REQUESTED}, S.ASSIGNED, {P.ASSIGNER}, "坚持交办"),
        _t(A.RULE, {S.RETURN_REQUESTED}, S.ASSIGNED, {P.DISTRICT}, "裁定承办单位"),
        _t(A.START, {S.ACCEPTED}, S.IN_PROGRESS, {P.LEAD}, "开始办理"),
        _t(
            A.REQUEST_EXTENSION,
            {S.ACCEPTED, S.IN_PROGRESS},
            S.EXTENSION_REQUESTED,
            {P.LEAD},
            "申请延期",
        ),
        _t(A.APPROVE_EXTENSION, {S.EXTENSION_REQUESTED}, S.IN_PROGRESS, {P.ASSIGNER}, "同意延期"),
        _t(A.REFUSE_EXTENSION, {S.EXTENSION_REQUESTED}, S.IN_PROGRESS, {P.ASSIGNER}, "不同意延期"),
        _t(A.REPORT, {S.ACCEPTED, S.IN_PROGRESS}, S.REPORTED, {P.LEAD}, "办结反馈"),
        _t(A.PASS_REVIEW, {S.REPORTED}, S.REVIEWED, {P.ASSIGNER}, "审核通过"),
        _t(A.FAIL_REVIEW, {S.REPORTED}, S.IN_PROGRESS, {P.ASSIGNER}, "退回重办"),
        _t(A.RATE, {S.REVIEWED}, S.RATED, {P.ASSIGNER}, "评价"),
        _t(A.RATE_DISSATISFIED, {S.REVIEWED}, S.IN_PROGRESS, {P.ASSIGNER}, "评价"),
        _t(A.CLOSE, {S.RATED}, S.CLOSED, {P.ASSIGNER}, "销号"),
        _t(A.ARCHIVE, {S.CLOSED}, S.ARCHIVED, {P.ASSIGNER, P.SYSTEM}, "归档"),
    )
}

# States in which the task runs on the clock (supervision applies). Kept in step with
# the partial indexes in domain.models.tasks.
OPEN_STATES: frozenset[TaskState] = frozenset(
    {
        S.ASSIGNED,
        S.ACCEPTED,
        S.RETURN_REQUESTED,
        S.IN_PROGRESS,
        S.EXTENSION_REQUESTED,
        S.REPORTED,
    }
)
# Work is done from the handling unit's side: it waits for the assigner only.
FINISHED_STATES: frozenset[TaskState] = frozenset({S.REVIEWED, S.RATED, S.CLOSED, S.ARCHIVED})
# Nothing about these may change any more (archiving a closed task aside).
FROZEN_STATES: frozenset[TaskState] = frozenset({S.CLOSED, S.ARCHIVED})
# Where the lead may post progress.
HANDLING_STATES: frozenset[TaskState] = frozenset(
    {S.ACCEPTED, S.IN_PROGRESS, S.EXTENSION_REQUESTED}
)


def check(state: TaskState, action: Action, parties: frozenset[Party]) -> TaskState:
    """The state `action` leads to, or the reason it is refused.

    A wrong state is a conflict (409): most often someone else acted first, and the page
    the user saw is stale. A wrong party is a permission error (403).
    """
    transition = TRANSITIONS[action]
    if not (transition.parties & parties):
        raise PermissionDenied(f"您无权对该任务执行“{transition.verb}”。")
    if state not in transition.sources:
        raise Conflict(
            f"该任务当前为“{label(state)}”，不能{transition.verb}。"
            "可能已有其他人处理，请刷新后查看。"
        )
    return transition.target


def allowed_actions(state: TaskState, parties: frozenset[Party]) -> list[Action]:
    """Actions this user may take now (the page offers these and no others)."""
    return [t.action for t in TRANSITIONS.values() if state in t.sources and t.parties & parties]
