"""The task state machine as a pure table: every action, from every state, for every party.

The expected lifecycle is written out here again from issue #5 (not imported from the
module under test), so that a change to the table has to be a change to this file too:

drafted → assigned → accepted | return requested → in progress ⇄ extension requested →
reported → reviewed (pass, or back to in progress) → rated (dissatisfied sends it back) →
closed → archived. Returns: the assigner reassigns or insists, the district rules.

Two shortcuts are part of the design rather than the issue's arrows: an accepted task is
already being handled, so its lead may report the result or ask for more time before a
first progress report has moved it to "in progress".
"""

from __future__ import annotations

import itertools
import re

import pytest

from domain.enums import TaskState
from domain.errors import Conflict, PermissionDenied
from domain.labels import label
from domain.models.tasks import OPEN_STATES_SQL
from domain.tasks import machine
from domain.tasks.machine import Action, Party

S, A, P = TaskState, Action, Party

# action → (states it may start from, state it leads to, who may take it, verb in messages)
EXPECTED: dict[Action, tuple[set[TaskState], TaskState, set[Party], str]] = {
    A.ASSIGN: ({S.DRAFTED}, S.ASSIGNED, {P.ASSIGNER}, "交办"),
    A.ACCEPT: ({S.ASSIGNED}, S.ACCEPTED, {P.LEAD}, "签收"),
    A.REQUEST_RETURN: ({S.ASSIGNED}, S.RETURN_REQUESTED, {P.LEAD}, "申请退回"),
    A.REASSIGN: ({S.RETURN_REQUESTED}, S.ASSIGNED, {P.ASSIGNER}, "改派"),
    A.INSIST: ({S.RETURN_REQUESTED}, S.ASSIGNED, {P.ASSIGNER}, "坚持交办"),
    A.RULE: ({S.RETURN_REQUESTED}, S.ASSIGNED, {P.DISTRICT}, "裁定承办单位"),
    A.START: ({S.ACCEPTED}, S.IN_PROGRESS, {P.LEAD}, "开始办理"),
    A.REQUEST_EXTENSION: ({S.ACCEPTED, S.IN_PROGRESS}, S.EXTENSION_REQUESTED, {P.LEAD}, "申请延期"),
    A.APPROVE_EXTENSION: ({S.EXTENSION_REQUESTED}, S.IN_PROGRESS, {P.ASSIGNER}, "同意延期"),
    A.REFUSE_EXTENSION: ({S.EXTENSION_REQUESTED}, S.IN_PROGRESS, {P.ASSIGNER}, "不同意延期"),
    A.REPORT: ({S.ACCEPTED, S.IN_PROGRESS}, S.REPORTED, {P.LEAD}, "办结反馈"),
    A.PASS_REVIEW: ({S.REPORTED}, S.REVIEWED, {P.ASSIGNER}, "审核通过"),
    A.FAIL_REVIEW: ({S.REPORTED}, S.IN_PROGRESS, {P.ASSIGNER}, "退回重办"),
    A.RATE: ({S.REVIEWED}, S.RATED, {P.ASSIGNER}, "评价"),
    A.RATE_DISSATISFIED: ({S.REVIEWED}, S.IN_PROGRESS, {P.ASSIGNER}, "评价"),
    A.CLOSE: ({S.RATED}, S.CLOSED, {P.ASSIGNER}, "销号"),
    A.ARCHIVE: ({S.CLOSED}, S.ARCHIVED, {P.ASSIGNER, P.SYSTEM}, "归档"),
}

ALL_PARTY_SETS: list[frozenset[Party]] = [
    frozenset(combo)
    for n in range(len(Party) + 1)
    for combo in itertools.combinations(list(Party), n)
]
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_the_table_covers_every_action_once() -> None:
    assert set(machine.TRANSITIONS) == set(Action) == set(EXPECTED)
    for action, transition in machine.TRANSITIONS.items():
        sources, target, parties, verb = EXPECTED[action]
        assert transition.action is action
        assert transition.sources == sources, action
        assert transition.target is target, action
        assert transition.parties == parties, action
        assert transition.verb == verb, action


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("state", list(TaskState))
def test_every_action_from_every_state_for_every_party(state: TaskState, action: Action) -> None:
    sources, target, allowed, verb = EXPECTED[action]
    for parties in ALL_PARTY_SETS:
        if not parties & allowed:
            # The wrong person: refused as a permission error whatever the state.
            with pytest.raises(PermissionDenied) as denied:
                machine.check(state, action, parties)
            assert denied.value.status == 403
            assert denied.value.message == f"您无权对该任务执行“{verb}”。"
        elif state not in sources:
            # The right person too late (or too early): a conflict naming the state.
            with pytest.raises(Conflict) as conflict:
                machine.check(state, action, parties)
            assert conflict.value.status == 409
            message = conflict.value.message
            assert message.startswith(f"该任务当前为“{label(state)}”，不能{verb}。")
            assert "请刷新后查看" in message
        else:
            assert machine.check(state, action, parties) is target


@pytest.mark.parametrize("state", list(TaskState))
def test_allowed_actions_are_exactly_the_checks_that_pass(state: TaskState) -> None:
    for parties in ALL_PARTY_SETS:
        offered = machine.allowed_actions(state, parties)
        expected = [
            a
            for a, (sources, _t, allowed, _v) in EXPECTED.items()
            if state in sources and parties & allowed
        ]
        assert sorted(offered) == sorted(expected), (state, parties)
        assert len(offered) == len(set(offered))
        for action in offered:
            machine.check(state, action, parties)  # does not raise


def test_what_each_party_is_offered_along_the_lifecycle() -> None:
    offered = machine.allowed_actions
    lead, assigner = frozenset({P.LEAD}), frozenset({P.ASSIGNER})
    district, system = frozenset({P.DISTRICT}), frozenset({P.SYSTEM})
    assistant = frozenset({P.ASSISTANT})

    assert offered(S.DRAFTED, assigner) == [A.ASSIGN]
    assert offered(S.DRAFTED, lead) == []
    assert offered(S.ASSIGNED, lead) == [A.ACCEPT, A.REQUEST_RETURN]
    assert offered(S.ASSIGNED, assigner) == []
    assert offered(S.RETURN_REQUESTED, assigner) == [A.REASSIGN, A.INSIST]
    assert offered(S.RETURN_REQUESTED, district) == [A.RULE]
    assert offered(S.RETURN_REQUESTED, lead) == []
    assert offered(S.ACCEPTED, lead) == [A.START, A.REQUEST_EXTENSION, A.REPORT]
    assert offered(S.IN_PROGRESS, lead) == [A.REQUEST_EXTENSION, A.REPORT]
    assert offered(S.EXTENSION_REQUESTED, lead) == []
    assert offered(S.EXTENSION_REQUESTED, assigner) == [A.APPROVE_EXTENSION, A.REFUSE_EXTENSION]
    assert offered(S.REPORTED, assigner) == [A.PASS_REVIEW, A.FAIL_REVIEW]
    assert offered(S.REPORTED, lead) == []
    assert offered(S.REVIEWED, assigner) == [A.RATE, A.RATE_DISSATISFIED]
    assert offered(S.RATED, assigner) == [A.CLOSE]
    assert offered(S.CLOSED, assigner) == [A.ARCHIVE]
    assert offered(S.CLOSED, system) == [A.ARCHIVE]
    assert offered(S.ARCHIVED, frozenset(Party)) == []
    # An assisting unit takes no step of the task's own lifecycle, in any state.
    for state in TaskState:
        assert offered(state, assistant) == []
    # The district only ever rules on a return; it never handles or reviews.
    for state in TaskState:
        assert offered(state, district) == ([A.RULE] if state is S.RETURN_REQUESTED else [])


def test_closed_and_archived_tasks_never_change_except_by_archiving() -> None:
    everyone = frozenset(Party)
    assert machine.allowed_actions(S.CLOSED, everyone) == [A.ARCHIVE]
    assert machine.allowed_actions(S.ARCHIVED, everyone) == []
    for transition in machine.TRANSITIONS.values():
        for frozen in machine.FROZEN_STATES:
            if frozen in transition.sources:
                assert (transition.action, frozen, transition.target) == (
                    A.ARCHIVE,
                    S.CLOSED,
                    S.ARCHIVED,
                )
    assert set(machine.FROZEN_STATES) == {S.CLOSED, S.ARCHIVED}


def test_no_transition_leads_back_to_a_draft() -> None:
    assert all(t.target is not S.DRAFTED for t in machine.TRANSITIONS.values())


def _reachable(start: TaskState) -> set[TaskState]:
    seen, todo = {start}, [start]
    while todo:
        state = todo.pop()
        for t in machine.TRANSITIONS.values():
            if state in t.sources and t.target not in seen:
                seen.add(t.target)
                todo.append(t.target)
    return seen


def test_every_state_is_reachable_and_every_open_task_can_still_be_archived() -> None:
    assert _reachable(S.DRAFTED) == set(TaskState)
    for state in TaskState:
        assert S.ARCHIVED in _reachable(state), state


def test_state_groups() -> None:
    assert set(machine.OPEN_STATES) == {
        S.ASSIGNED,
        S.ACCEPTED,
        S.RETURN_REQUESTED,
        S.IN_PROGRESS,
        S.EXTENSION_REQUESTED,
        S.REPORTED,
    }
    assert set(machine.FINISHED_STATES) == {S.REVIEWED, S.RATED, S.CLOSED, S.ARCHIVED}
    assert set(machine.HANDLING_STATES) == {S.ACCEPTED, S.IN_PROGRESS, S.EXTENSION_REQUESTED}
    assert not machine.OPEN_STATES & machine.FINISHED_STATES
    assert set(TaskState) - machine.OPEN_STATES - machine.FINISHED_STATES == {S.DRAFTED}
    # The partial indexes on open tasks use the same list, spelled out in SQL.
    in_sql = set(re.findall(r"'([a-z_]+)'", OPEN_STATES_SQL))
    assert in_sql == {s.value for s in machine.OPEN_STATES}


def test_messages_are_chinese_for_every_verb_and_state() -> None:
    for transition in machine.TRANSITIONS.values():
        assert CJK.search(transition.verb)
    for state in TaskState:
        assert CJK.search(label(state)), state
        assert label(state) != state.value
