"""A property-based state machine over the REAL task services on a SQLite database.

Each run hands out one task from 新华街道 and then lets the demo users try anything on it —
every action of `domain.tasks.machine` plus progress reports, comments and an assisting
unit's acceptance — with inputs that may or may not be valid, and stale or current page
versions. After every step the database is read back and must show:

- a refused action changed nothing (state, version, deadline, timeline, counters);
- a successful one moved the task along exactly one edge of `machine.TRANSITIONS` for the
  action it was (or along none, for progress, comments and assisting units' steps);
- a closed task never changes again, except closed → archived;
- the deadline moves only on an approved extension, and then to the date asked for (its
  first value is set by the assignment);
- the timeline only grows: earlier entries stay as they were, and every transition is in it.

The hypothesis machine is synchronous; each run drives the async services on its own
event loop and its own copy of a demo database, so pytest-asyncio's loop is not involved.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.db import make_engine, make_session_factory
from domain.enums import AssigneeState, ExtensionState, TaskSource, TaskState
from domain.errors import DomainError
from domain.models import ExtensionRequest, Organization, Task, TaskAssignee, TaskEvent, Unit
from domain.models.base import utcnow
from domain.permissions import Actor
from domain.tasks import handling, handoff, machine, returns, review
from domain.tasks.calendar import local_date
from domain.tasks.machine import Action
from domain.uow import UnitOfWork
from tests.integration.conftest import load_actor

S = TaskState
USERS = ("secretary", "supervisor", "dept", "community", "liaison", "district", "secretary2")
UNITS = {
    "dept": "区城管执法局新华街道执法队",
    "community": "文化里社区居委会",
    "liaison": "和平区人民医院",
    "market": "区市场监督管理局新华市场监管所",  # a department without a demo user
    "office": "新华街道办事处",  # never a handler
    "elsewhere": "长安派出所",  # another street's unit
}
# Who speaks for a handling unit among the demo users.
SPEAKER = {"dept": "dept", "community": "community", "liaison": "liaison"}

# What each kind of call is, in the machine's terms. None: it never moves the task.
KINDS: dict[str, Action | None] = {
    "assign": Action.ASSIGN,
    "accept": Action.ACCEPT,  # or an assisting unit's own acceptance (no move)
    "return": Action.REQUEST_RETURN,
    "reassign": Action.REASSIGN,
    "insist": Action.INSIST,
    "rule": Action.RULE,
    "progress": Action.START,  # the lead's first progress report in "accepted"; else no move
    "extend": Action.REQUEST_EXTENSION,
    "approve": Action.APPROVE_EXTENSION,
    "refuse": Action.REFUSE_EXTENSION,
    "report": Action.REPORT,  # or an assisting unit's own report (no move)
    "pass": Action.PASS_REVIEW,
    "fail": Action.FAIL_REVIEW,
    "rate": Action.RATE,
    "rate_dissatisfied": Action.RATE_DISSATISFIED,
    "close": Action.CLOSE,
    "archive": Action.ARCHIVE,
    "comment": None,
}
# Walks along the lifecycle, by the right people, that a run may start with.
PATHS: dict[str, tuple[str, ...]] = {
    "done": (
        "assign",
        "accept",
        "progress",
        "extend",
        "approve",
        "report",
        "pass",
        "rate",
        "close",
        "archive",
    ),
    "sent_back": ("assign", "accept", "report", "fail", "report", "pass", "rate_dissatisfied"),
    "disputed": ("assign", "return", "insist", "return"),
}
# Calls that may succeed without moving the task.
MAY_STAY = {"accept", "progress", "report", "comment"}
assert {a for a in KINDS.values() if a} == set(Action)
ASSIGNER_KINDS = {
    "assign",
    "reassign",
    "insist",
    "approve",
    "refuse",
    "pass",
    "fail",
    "rate",
    "rate_dissatisfied",
    "close",
    "archive",
    "comment",
}
LEAD_KINDS = {"accept", "return", "progress", "extend", "report"}


@dataclass(frozen=True)
class Demo:
    """A migrated SQLite file with the demo loaded, and what the machine needs from it."""

    path: Path
    street_id: int
    actors: dict[str, Actor]
    units: dict[str, int]


@pytest.fixture(scope="module")
def demo_database(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Demo:
    from gongjian.demo import seed_demo

    path = tmp_path_factory.mktemp("task_machine") / "demo.db"
    shutil.copy(sqlite_template, path)

    async def seed() -> Demo:
        engine = make_engine(f"sqlite+aiosqlite:///{path}")
        factory = make_session_factory(engine)
        try:
            assert await seed_demo(factory)
            actors = {u: await load_actor(factory, u) for u in USERS}
            async with factory() as s:
                street = await s.scalar(
                    select(Organization.id).where(Organization.name == "新华街道")
                )
                units = {
                    key: (await s.scalar(select(Unit.id).where(Unit.name == name)))
                    for key, name in UNITS.items()
                }
            assert street is not None and all(units.values())
            return Demo(path, street, actors, {k: int(v or 0) for k, v in units.items()})
        finally:
            await engine.dispose()

    return asyncio.run(seed())


@dataclass(frozen=True)
class Snapshot:
    state: TaskState
    version: int
    deadline: datetime | None
    original_deadline: datetime | None
    assigned_at: datetime | None
    updated_at: datetime
    escalated_at: datetime | None
    return_count: int
    rework_count: int
    rating: str | None
    outside_admission: bool
    # (unit_id, role, state, open, done_at is set)
    assignees: tuple[tuple[int, str, str, bool, bool], ...]
    # (id, kind, action, from, to, text, at)
    events: tuple[tuple[int, str, str, str | None, str | None, str, datetime], ...]
    approved: tuple[tuple[int, datetime, datetime], ...]  # (id, from, to) of approved extensions

    @property
    def lead_unit(self) -> int | None:
        leads = [a[0] for a in self.assignees if a[1] == "lead" and a[2] != "released"]
        return leads[0] if leads else None


@dataclass
class Call:
    """One attempt: who tried what, with which arguments."""

    kind: str
    username: str
    fn: Callable[..., Coroutine[Any, Any, Any]]
    args: tuple[Any, ...]


class TaskLifecycle(RuleBasedStateMachine):
    demo: Demo  # set by the test before the machine runs
    workdir: Path

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.path = self.workdir / f"{uuid.uuid4().hex}.db"
        shutil.copy(self.demo.path, self.path)
        self.engine = make_engine(f"sqlite+aiosqlite:///{self.path}")
        self.factory: async_sessionmaker[AsyncSession] = make_session_factory(self.engine)
        self.task_id = 0
        self.assigners: tuple[str, ...] = ("secretary", "supervisor")
        self.snap: Snapshot | None = None

    def teardown(self) -> None:
        try:
            self.loop.run_until_complete(self.engine.dispose())
        finally:
            self.loop.close()
            self.path.unlink(missing_ok=True)
            for suffix in ("-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    # --- plumbing ---------------------------------------------------------------------

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return self.loop.run_until_complete(coro)

    def unit(self, key: str) -> int:
        return self.demo.units[key]

    async def _call(self, call: Call) -> Any:
        actor = self.demo.actors[call.username]
        async with UnitOfWork(self.factory, actor) as uow:
            result = await call.fn(uow, actor, *call.args)
            await uow.commit()
            return result

    async def _read(self) -> Snapshot:
        async with self.factory() as s:
            task = await s.get(Task, self.task_id)
            assert task is not None
            rows = await s.scalars(
                select(TaskAssignee)
                .where(TaskAssignee.task_id == self.task_id)
                .order_by(TaskAssignee.id)
            )
            events = await s.scalars(
                select(TaskEvent).where(TaskEvent.task_id == self.task_id).order_by(TaskEvent.id)
            )
            approved = await s.scalars(
                select(ExtensionRequest)
                .where(
                    ExtensionRequest.task_id == self.task_id,
                    ExtensionRequest.state == ExtensionState.APPROVED.value,
                )
                .order_by(ExtensionRequest.id)
            )
            return Snapshot(
                state=TaskState(task.state),
                version=task.version,
                deadline=task.deadline,
                original_deadline=task.original_deadline,
                assigned_at=task.assigned_at,
                updated_at=task.updated_at,
                escalated_at=task.escalated_at,
                return_count=task.return_count,
                rework_count=task.rework_count,
                rating=task.rating,
                outside_admission=task.outside_admission,
                assignees=tuple(
                    (a.unit_id, a.role, a.state, a.open, a.done_at is not None) for a in rows
                ),
                events=tuple(
                    (e.id, e.kind, e.action, e.from_state, e.to_state, e.text, e.at) for e in events
                ),
                approved=tuple((e.id, e.current_deadline, e.requested_deadline) for e in approved),
            )

    def read(self) -> Snapshot:
        return self.run(self._read())

    # --- the task ---------------------------------------------------------------------

    @initialize(
        setup=st.sampled_from(["street", "street_to_community", "dept_handoff", "whistle"]),
        path=st.sampled_from(sorted(PATHS)),
        length=st.integers(0, max(len(p) for p in PATHS.values())),
        data=st.data(),
    )
    def hand_out(self, setup: str, path: str, length: int, data: st.DataObject) -> None:
        """A draft, walked some way along a path of the lifecycle by the right people (each
        step checked like any other), so that random steps start from every state."""
        raw = {
            "title": "清理新华路 12 号楼道堆物",
            "description": "居民反映楼道堆放杂物。",
            "lead_unit_id": str(self.unit("dept")),
            "limit_value": "5",
            "limit_unit": "working_days",
        }
        username, source = "secretary", TaskSource.ASSIGNMENT
        assisting = [str(self.unit("community"))]
        if setup == "street_to_community":
            raw["lead_unit_id"] = str(self.unit("community"))
            assisting = [str(self.unit("liaison"))]
        elif setup == "dept_handoff":
            username, source = "dept", TaskSource.DEPT_HANDOFF
            raw["lead_unit_id"] = str(self.unit("community"))
            assisting = []
            self.assigners = ("dept",)
        elif setup == "whistle":
            source = TaskSource.WHISTLE
            raw.update(whistle_kind="enforcement", report_minutes="30", limit_unit="hours")
            assisting = [str(self.unit("market"))]
        street = self.demo.street_id
        create = Call(
            "create", username, _create(assign_now=False), (street, source, raw, assisting)
        )
        task = self.run(self._call(create))
        self.task_id = int(task.id)
        self.snap = self.read()
        assert self.snap.state is S.DRAFTED
        assert [e[2] for e in self.snap.events] == ["create"]
        for kind in PATHS[path][:length]:
            before = self.snap
            self._attempt(self._proper(kind, data))
            assert self.snap is not before, f"{kind} along the {path} path was refused"

    # --- choosing a call --------------------------------------------------------------

    def _versions(self, snap: Snapshot) -> st.SearchStrategy[int | None]:
        return st.sampled_from([snap.version, None, snap.version - 1, snap.version + 1])

    def _build(
        self, kind: str, username: str, unit_key: str, data: st.DataObject, valid: bool
    ) -> Call:
        snap = self.snap
        assert snap is not None
        task_id = self.task_id
        version = snap.version if valid else data.draw(self._versions(snap), label="version")
        unit_id = self.unit(unit_key)
        today = local_date(utcnow())

        def pick(good: list[Any], bad: list[Any], label: str) -> Any:
            return data.draw(st.sampled_from(good if valid else good + bad), label=label)

        if kind == "assign":
            return Call(kind, username, handoff.assign_draft, (task_id, version or 0))
        if kind == "accept":
            return Call(kind, username, handling.accept, (task_id, unit_id, version))
        if kind == "return":
            reasons = ["wrong_area", "unclear_ownership", "overlapping_duties"]
            raw = {
                # A refusal (准入外) is right for a community on a matter outside the list only.
                "reason": pick(reasons, ["outside_admission", "", "bogus"], "reason"),
                "text": pick(["不属本单位职责"], ["", "长" * 501], "text"),
            }
            return Call(kind, username, handling.request_return, (task_id, unit_id, version, raw))
        if kind in ("reassign", "rule"):
            lead = pick(["dept", "community", "liaison", "market"], ["office", "elsewhere"], "to")
            raw = {"lead_unit_id": str(self.unit(lead)), "note": "改由该单位办理"}
            fn = returns.reassign if kind == "reassign" else returns.rule_dispute
            return Call(kind, username, fn, (task_id, version, raw))
        if kind == "insist":
            note = pick(["属该单位职责"], ["", " "], "note")
            return Call(kind, username, returns.insist, (task_id, version, note))
        if kind == "progress":
            raw = {
                "body": pick(["已处理一部分"], [""], "body"),
                "percent": pick(["0", "50", "100"], ["101", "-1", "abc"], "percent"),
            }
            return Call(kind, username, handling.report_progress, (task_id, unit_id, raw))
        if kind == "extend":
            last = local_date(snap.deadline - timedelta(seconds=1)) if snap.deadline else today
            until = pick(
                [last + timedelta(days=3), last + timedelta(days=20)],
                [last, last - timedelta(days=1), "明天"],
                "until",
            )
            raw = {
                "until": until.isoformat() if isinstance(until, date) else until,
                "grounds": pick(["需等待物业配合"], [""], "grounds"),
            }
            return Call(
                kind, username, handling.request_extension, (task_id, unit_id, version, raw)
            )
        if kind in ("approve", "refuse"):
            note = pick(["理由充分" if kind == "approve" else "时限已足够"], ["", "  "], "note")
            return Call(
                kind,
                username,
                handling.decide_extension,
                (task_id, version, kind == "approve", note),
            )
        if kind == "report":
            raw = {
                "handled_on": today.isoformat(),
                "contacted": pick(["楼长王师傅"], [""], "contacted"),
                "actions": pick(["清理楼道堆物 3 处"], [""], "actions"),
                "done_by": pick(
                    [today.isoformat()], [(today - timedelta(days=1)).isoformat(), "x"], "by"
                ),
            }
            return Call(kind, username, handling.report_result, (task_id, unit_id, version, raw))
        if kind in ("pass", "fail"):
            note = pick(["楼道仍有堆物"], [""], "note") if kind == "fail" else ""
            return Call(kind, username, review.review, (task_id, version, kind == "pass", note))
        if kind in ("rate", "rate_dissatisfied"):
            rating = (
                pick(["satisfied", "basically_satisfied"], ["", "good"], "rating")
                if kind == "rate"
                else "dissatisfied"
            )
            raw = {"rating": rating, "note": pick(["居民认可"], [""], "note")}
            return Call(kind, username, review.rate, (task_id, version, raw))
        if kind == "close":
            return Call(kind, username, review.close, (task_id, version))
        if kind == "archive":
            return Call(kind, username, review.archive, (task_id, version))
        assert kind == "comment"
        text = pick(["请加快进度"], ["", "长" * 1001], "text")
        return Call(kind, username, review.comment, (task_id, text))

    def _lead_key(self) -> str:
        snap = self.snap
        assert snap is not None
        by_id = {v: k for k, v in self.demo.units.items()}
        return by_id.get(snap.lead_unit or 0, "dept")

    @rule(data=st.data())
    def a_proper_step(self, data: st.DataObject) -> None:
        """An action the lifecycle allows now, by the party it belongs to, well filled in."""
        snap = self.snap
        assert snap is not None
        kinds = sorted(k for k, a in KINDS.items() if a is not None and snap.state in _sources(a))
        if snap.state in machine.HANDLING_STATES:
            kinds.append("progress")  # the first one starts the work
        if not kinds:  # archived: nothing is allowed any more
            kinds = ["comment"]
        kind = data.draw(st.sampled_from(kinds), label="kind")
        self._attempt(self._proper(kind, data))

    def _proper(self, kind: str, data: st.DataObject) -> Call:
        """`kind` by the party it belongs to, well filled in."""
        if kind in LEAD_KINDS:
            unit_key = self._lead_key()
            username = SPEAKER.get(unit_key, "dept")
        elif kind == "rule":
            unit_key, username = "dept", "district"
        else:
            unit_key = "dept"
            username = data.draw(st.sampled_from(self.assigners), label="assigner")
        return self._build(kind, username, unit_key, data, valid=True)

    @rule(data=st.data())
    def another_proper_step(self, data: st.DataObject) -> None:
        """(The same again: proper steps twice as often, so runs get through the lifecycle.)"""
        self.a_proper_step(data)

    @rule(kind=st.sampled_from(["accept", "progress", "report", "comment"]), data=st.data())
    def an_assisting_step(self, kind: str, data: st.DataObject) -> None:
        """An assisting unit does its own part: accepts, reports progress and its result."""
        snap = self.snap
        assert snap is not None
        by_id = {v: k for k, v in self.demo.units.items()}
        helpers = [
            by_id[a[0]]
            for a in snap.assignees
            if a[1] == "assist" and a[2] != "released" and by_id.get(a[0]) in SPEAKER
        ]
        if not helpers:
            return
        unit_key = data.draw(st.sampled_from(helpers), label="helper")
        self._attempt(self._build(kind, SPEAKER[unit_key], unit_key, data, valid=True))

    @rule(
        kind=st.sampled_from(sorted(KINDS)),
        username=st.sampled_from(USERS),
        unit_key=st.sampled_from(["dept", "community", "liaison", "market"]),
        data=st.data(),
    )
    def any_step(self, kind: str, username: str, unit_key: str, data: st.DataObject) -> None:
        """Anything, by anyone, for any unit, with inputs valid or not."""
        self._attempt(self._build(kind, username, unit_key, data, valid=False))

    @rule(chance=st.integers(0, 3))
    def the_deadline_passes(self, chance: int) -> None:
        """Time runs out (the clock, not a user): afterwards no extension may be asked for."""
        snap = self.snap
        assert snap is not None
        # Not while an extension waits: it was asked in time, and records the deadline then.
        if chance or snap.deadline is None or snap.state not in machine.OPEN_STATES:
            return
        if snap.state is S.EXTENSION_REQUESTED:
            return
        past = utcnow() - timedelta(minutes=1)

        async def expire() -> None:
            async with self.factory() as s:
                await s.execute(update(Task).where(Task.id == self.task_id).values(deadline=past))
                await s.commit()

        self.run(expire())
        after = self.read()
        assert after.deadline == past
        self.snap = after

    # --- the properties ---------------------------------------------------------------

    def _attempt(self, call: Call) -> None:
        before = self.snap
        assert before is not None
        attempted_at = utcnow()
        try:
            self.run(self._call(call))
        except DomainError:
            after = self.read()
            # Refused: nothing at all changed.
            assert after == before, f"refused {call.kind} by {call.username} changed the task"
            return
        after = self.read()
        self._check_success(call, before, after, attempted_at)
        self.snap = after

    def _check_success(
        self, call: Call, before: Snapshot, after: Snapshot, attempted_at: datetime
    ) -> None:
        where = f"{call.kind} by {call.username}: {before.state} → {after.state}"
        action = KINDS[call.kind]
        # The timeline only grows; what was there stays as it was.
        assert after.events[: len(before.events)] == before.events, where
        new_events = after.events[len(before.events) :]
        assert new_events, f"{where}: a successful action left no timeline entry"
        moves = [e for e in new_events if e[1] == "transition"]

        if after.state is before.state and call.kind in MAY_STAY:
            assert not moves, where
        else:
            assert action is not None, where
            transition = machine.TRANSITIONS[action]
            assert before.state in transition.sources and after.state is transition.target, where
            assert [(m[2], m[3], m[4]) for m in moves] == [
                (action.value, before.state.value, after.state.value)
            ], where
            if call.kind == "progress":
                assert before.state is S.ACCEPTED, where
        # Closed and archived tasks never change, except closed → archived.
        if before.state in machine.FROZEN_STATES:
            assert (before.state, after.state) == (S.CLOSED, S.ARCHIVED), where
        # The deadline: set by the assignment, moved only by an approved extension, to the
        # date asked for, and an extension is granted only to one asked before the deadline.
        if after.deadline != before.deadline:
            if before.deadline is None:
                assert call.kind == "assign", where
            else:
                assert call.kind == "approve", where
                assert after.approved[:-1] == before.approved, where
                _id, was, to = after.approved[-1]
                assert (was, to) == (before.deadline, after.deadline), where
        if call.kind == "approve":
            assert len(after.approved) == len(before.approved) + 1, where
        if call.kind == "extend":
            assert before.deadline is not None and attempted_at < before.deadline, where
            until = date.fromisoformat(call.args[3]["until"])
            assert until > local_date(before.deadline - timedelta(seconds=1)), where
        if call.kind == "assign":
            assert after.deadline is not None and after.original_deadline == after.deadline
        else:
            assert after.original_deadline == before.original_deadline, where
            assert after.assigned_at == before.assigned_at, where
        # Counters only grow.
        assert after.return_count >= before.return_count, where
        assert after.rework_count >= before.rework_count, where
        assert after.version > before.version, where

    @invariant()
    def the_task_is_consistent(self) -> None:
        snap = self.snap
        if snap is None:
            return
        current = [a for a in snap.assignees if a[2] != AssigneeState.RELEASED.value]
        leads = [a for a in current if a[1] == "lead"]
        assert len(leads) == 1, snap.assignees
        for unit_id, _role, state, is_open, _done in snap.assignees:
            if state == AssigneeState.RELEASED.value:
                assert not is_open, unit_id
            elif snap.state is not S.DRAFTED:
                # A unit's board shows the task as open exactly while it runs.
                assert is_open == (snap.state in machine.OPEN_STATES), (unit_id, snap.state)
        if snap.escalated_at is not None:
            assert snap.state is S.RETURN_REQUESTED
        if snap.state is not S.DRAFTED:
            assert snap.assigned_at is not None and snap.deadline is not None
        transitions = [e for e in snap.events if e[1] == "transition"]
        assert transitions[-1][4] == snap.state.value  # the timeline ends where the task is
        for earlier, later in itertools.pairwise(transitions):
            assert later[3] == earlier[4], "the timeline's transitions do not chain"


def _sources(action: Action) -> frozenset[TaskState]:
    return machine.TRANSITIONS[action].sources


def _create(*, assign_now: bool) -> Callable[..., Coroutine[Any, Any, Any]]:
    async def create(uow: UnitOfWork, actor: Actor, *args: Any) -> Any:
        return await handoff.create_task(uow, actor, *args, assign_now=assign_now)

    return create


def test_no_illegal_transition_is_reachable(demo_database: Demo, tmp_path: Path) -> None:
    TaskLifecycle.demo = demo_database
    TaskLifecycle.workdir = tmp_path
    run_state_machine_as_test(
        TaskLifecycle,
        settings=settings(
            max_examples=30,
            stateful_step_count=20,
            deadline=None,
            database=None,
            # Every example replays a database; shrinking a failure would take minutes. The
            # failing run is printed step by step, with the call and both snapshots.
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
