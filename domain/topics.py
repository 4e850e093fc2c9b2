"""Live-update topics: what a page may subscribe to, and who may.

A topic names something a page shows (a street's units, one unit, a user's
notifications). A socket gets a topic's fragments only if its user could load
the page that shows it; the rule for each kind is here, beside the permission
rules it reuses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from domain.models import Unit
from domain.permissions import Actor, can_view_directory, can_view_street
from domain.uow import UnitOfWork

KINDS = ("user", "street", "unit", "admin", "session", "task")
# Admin pages (users, organisations, audit log) share one topic.
ADMIN_TOPIC = "admin:1"
TOPIC_RE = re.compile(r"^(?P<kind>[a-z]+):(?P<id>[1-9][0-9]{0,9})$")
MAX_TOPICS = 20


@dataclass(frozen=True)
class Topic:
    kind: str
    id: int

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"


def user_topic(user_id: int) -> str:
    return f"user:{user_id}"


def street_topic(street_id: int) -> str:
    return f"street:{street_id}"


def unit_topic(unit_id: int) -> str:
    return f"unit:{unit_id}"


def parse_topic(text: str) -> Topic | None:
    m = TOPIC_RE.match(text.strip())
    if m is None or m["kind"] not in KINDS:
        return None
    return Topic(m["kind"], int(m["id"]))


def parse_topics(raw: Iterable[str]) -> list[Topic] | None:
    """All topics parsed, or None if any is malformed or there are too many."""
    topics: list[Topic] = []
    for text in raw:
        topic = parse_topic(text)
        if topic is None:
            return None
        if topic not in topics:
            topics.append(topic)
    return topics if len(topics) <= MAX_TOPICS else None


def allowed_without_lookup(actor: Actor, topic: Topic) -> bool | None:
    """Decide from the actor alone where possible; None means the database must say."""
    if topic.kind == "user":
        return topic.id == actor.user_id
    if topic.kind == "street":
        return can_view_street(actor, topic.id)
    if topic.kind == "admin":
        return actor.is_admin
    return None


async def authorize_topics(uow: UnitOfWork, actor: Actor, topics: list[Topic]) -> list[Topic]:
    """The subset of topics this actor may receive."""
    allowed: list[Topic] = []
    unit_ids = [t.id for t in topics if t.kind == "unit"]
    unit_streets: dict[int, int] = {}
    if unit_ids:
        rows = await uow.session.execute(
            select(Unit.id, Unit.street_id).where(Unit.id.in_(unit_ids))
        )
        unit_streets = {uid: sid for uid, sid in rows}
    for topic in topics:
        decided = allowed_without_lookup(actor, topic)
        if decided is None and topic.kind == "unit":
            street = unit_streets.get(topic.id)
            decided = (
                street is not None and can_view_directory(actor) and can_view_street(actor, street)
            )
        if decided is None and topic.kind == "session":
            decided = await _can_read_session(uow, actor, topic.id)
        if decided is None and topic.kind == "task":
            decided = await _can_read_task(uow, actor, topic.id)
        if decided:
            allowed.append(topic)
    return allowed


async def _can_read_session(uow: UnitOfWork, actor: Actor, session_id: int) -> bool:
    """A meeting room's topic: whoever may read the conference (members, observers, staff)."""
    from domain.conference.access import conference_access
    from domain.models import MeetingSession

    conference_id = await uow.session.scalar(
        select(MeetingSession.conference_id).where(MeetingSession.id == session_id)
    )
    if conference_id is None:
        return False
    return (await conference_access(uow, actor, conference_id)).can_read


async def _can_read_task(uow: UnitOfWork, actor: Actor, task_id: int) -> bool:
    """A task page's topic: whoever may open the task."""
    from domain.errors import NotFound
    from domain.tasks.access import task_access

    try:
        await task_access(uow, actor, task_id)
    except NotFound:
        return False
    return True
