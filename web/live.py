"""The live websocket (`/live`) and the fragments each kind of event renders to.

A page opens one socket for the topics it shows (always including the user's
own, for the notification bell). Messages are htmx out-of-band swaps: either
a rendered fragment that replaces an element by id, or a `#live-cursor` whose
`data-refresh` names regions the page re-fetches for itself (lists whose
content depends on the viewer's filters). Every message carries its seq; the
client reconnects with the last one and the server replays what it missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from urllib.parse import urlsplit

from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from adapters.live.events import LiveEvent
from adapters.live.hub import Connection, refresh_all_message
from adapters.live.relay import load_events, oldest_seq
from domain.models import Unit
from domain.permissions import Actor
from domain.services.auth import actor_for_token
from domain.services.notifications import unread_count
from domain.topics import authorize_topics, parse_topics
from domain.uow import UnitOfWork

log = logging.getLogger("gongjian.live")

MAX_REPLAY = 1000
RECHECK_SECONDS = 30.0
CLOSE_POLICY = 1008  # not allowed: the client must not retry
CLOSE_TRY_AGAIN = 1013  # too slow: the client reconnects and catches up

# Regions a page re-fetches when something in a street's units changes.
STREET_REGIONS = "unit-table street-figures recent-units"
# Regions of the conference overview, topic call and session preparation pages, by the
# street event that makes them stale (pages show one session, so ids need no session id).
CONFERENCE_REGIONS = {
    "conference.changed": "conf-index conf-setup session-replies",
    "session.changed": "conf-sessions session-head session-agenda session-replies topic-calls"
    " topic-submit topic-list",
    "session.agenda_changed": "session-agenda",
    "session.materials_changed": "session-materials",
    "session.replied": "session-replies",
    "topic.changed": "topic-list conf-topics session-agenda",
}
# Regions that show tasks: one task's page, a unit's board, a street's list and dashboard.
TASK_REGIONS = (
    "task-page task-board street-tasks supervision-figures supervision-board supervision-overdue"
    " supervision-units rollup-figures"
)
# Regions that show activities: the joint calendar, an activity, one date with its sign-ups,
# a member's own activities and the make-up list.
ACTIVITY_REGIONS = (
    "activity-calendar activity-page occurrence-page my-activities makeup-list rollup-figures"
)
# Regions of 双报到 and the points ledger.
DUAL_REPORT_REGIONS = (
    "unit-registrations member-registrations service-posts my-registration points-ledger"
    " community-review rollup-figures"
)
# Regions of emerging-sector coverage, scorecards, reports, bulletins and the roll-up.
EVALUATION_REGIONS = {
    "coverage.changed": "coverage-figures coverage-list coverage-gaps carrier-page rollup-figures",
    "report.changed": "report-page report-list",
    "bulletin.changed": "bulletin-list bulletin-page latest-bulletin",
}
# Regions of the admin pages, which follow every audited change.
ADMIN_REGIONS = "audit-table user-table org-tree user-grants calendar-years"


def cursor(seq: int, refresh: str = "") -> str:
    return (
        f'<div id="live-cursor" hx-swap-oob="true" hidden data-seq="{seq}"'
        f' data-refresh="{escape(refresh)}"></div>'
    )


class EventRenderer:
    """Turns an event into the HTML every subscriber of its topic receives."""

    def __init__(self, app: object) -> None:
        self.app = app

    @property
    def _state(self):  # type: ignore[no-untyped-def]
        return self.app.state  # type: ignore[attr-defined]

    async def __call__(self, event: LiveEvent) -> str:
        kind, topic = event.kind, event.topic
        if kind.startswith("notification.") and topic.startswith("user:"):
            user_id = int(topic.split(":", 1)[1])
            async with UnitOfWork(self._state.session_factory) as uow:
                count = await unread_count(uow, user_id)
            bell = self._state.templates.env.get_template("_bell.html").render(
                unread=count, oob=True
            )
            return cursor(event.seq, "notification-list") + bell
        if kind == "unit.changed" and topic.startswith("unit:"):
            unit_id = int(topic.split(":", 1)[1])
            async with UnitOfWork(self._state.session_factory) as uow:
                unit = await uow.session.scalar(
                    select(Unit)
                    .where(Unit.id == unit_id)
                    .options(joinedload(Unit.street), joinedload(Unit.community))
                )
            if unit is None:
                return cursor(event.seq, "*")
            facts = self._state.templates.env.get_template("units/_facts.html").render(
                unit=unit, oob=True
            )
            return cursor(event.seq, "unit-actions") + facts
        if kind == "room.changed" and topic.startswith("session:"):
            from web.views.conference.room import render_room_parts

            session_id = int(topic.split(":", 1)[1])
            html, refresh = await render_room_parts(
                self.app, session_id, set(event.payload.get("parts", []))
            )
            return cursor(event.seq, refresh) + html
        if kind == "task.changed":
            # The task page, boards and worklists, a street's list and its supervision pages.
            return cursor(event.seq, TASK_REGIONS)
        if kind == "decision.changed":
            return cursor(event.seq, "my-decisions progress-decisions")
        if kind == "minutes.changed":
            # A minutes page (state, text, co-signing progress) and the session archive.
            return cursor(event.seq, "minutes-page archive-results")
        if kind in CONFERENCE_REGIONS:
            return cursor(event.seq, CONFERENCE_REGIONS[kind])
        if kind == "street.units_changed":
            return cursor(event.seq, STREET_REGIONS)
        if kind == "admission.changed":
            return cursor(event.seq, "admission-list admission-item")
        if kind == "sharing.changed":
            return cursor(
                event.seq,
                "needs-list resources-list listing-page project-list project-page claim-list",
            )
        if kind == "street.settings_changed":
            return cursor(event.seq, "street-settings")
        if kind == "booking.changed":
            return cursor(event.seq, "resource-schedule my-bookings")
        if kind in EVALUATION_REGIONS:
            return cursor(event.seq, EVALUATION_REGIONS[kind])
        if kind == "activity.changed":
            return cursor(event.seq, ACTIVITY_REGIONS)
        if kind in ("dual_report.changed", "points.changed"):
            return cursor(event.seq, DUAL_REPORT_REGIONS)
        if kind == "audit.appended":
            return cursor(event.seq, ADMIN_REGIONS)
        # An event this page cannot render precisely: re-fetch its live regions.
        return cursor(event.seq, "*")


def render_presence(topic: str, viewers: list[tuple[int, str]]) -> str:
    names = "、".join(str(escape(name)) for _uid, name in viewers)
    text = f"正在查看（{len(viewers)}）：{names}" if viewers else ""
    return str(
        Markup(
            '<div id="presence" class="presence" hx-swap-oob="true" data-topic="{}">{}</div>'
        ).format(topic, text)
    )


def origin_allowed(ws: WebSocket) -> bool:
    """Cross-site websocket hijacking guard: the page must come from us."""
    origin = ws.headers.get("origin")
    if not origin:
        return False
    config = ws.app.state.config
    if config.public_origin and origin == config.public_origin:
        return True
    host = ws.headers.get("host", "")
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc == host


async def live_socket(ws: WebSocket) -> None:
    state = ws.app.state
    actor: Actor | None = ws.scope.get("state", {}).get("actor")
    if not origin_allowed(ws) or actor is None:
        await ws.close(code=CLOSE_POLICY)
        return
    requested = parse_topics(t for t in ws.query_params.get("topics", "").split(",") if t)
    if not requested:
        await ws.close(code=CLOSE_POLICY)
        return
    async with UnitOfWork(state.session_factory, actor) as uow:
        allowed = await authorize_topics(uow, actor, requested)
    # Asking for a topic the user may not see is refused outright, not silently trimmed.
    if len(allowed) != len(requested):
        await ws.close(code=CLOSE_POLICY)
        return
    topics = frozenset(str(t) for t in allowed)
    presence = ws.query_params.get("presence") or None
    if presence is not None and presence not in topics:
        presence = None
    try:
        last = int(ws.query_params.get("seq", "0"))
    except ValueError:
        last = 0

    await ws.accept()
    hub = state.live.hub
    conn = Connection(actor.user_id, actor.display_name, topics, last, presence)
    hub.register(conn)
    tasks: list[asyncio.Task[None]] = []
    try:
        await _replay(ws, conn)
        await hub.join(conn)
        token = ws.scope.get("state", {}).get("session_token", "")
        tasks = [
            asyncio.create_task(_send_loop(ws, conn)),
            asyncio.create_task(_receive_loop(ws)),
            asyncio.create_task(_watch(ws, conn, token)),
        ]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        hub.unregister(conn)
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        await hub.leave(conn)
        if ws.application_state != WebSocketState.DISCONNECTED:
            with contextlib.suppress(Exception):
                await ws.close()


async def _replay(ws: WebSocket, conn: Connection) -> None:
    """Send what the page missed since its cursor, in order; or tell it to refresh."""
    state = ws.app.state
    hub = state.live.hub
    async with state.session_factory() as s:
        oldest = await oldest_seq(s)
        too_old = conn.last_seq > hub.last_seq or (oldest > 0 and conn.last_seq < oldest - 1)
        events: list[LiveEvent] = []
        if not too_old and conn.last_seq < hub.last_seq:
            events = await load_events(s, conn.last_seq, sorted(conn.topics), MAX_REPLAY + 1)
    if too_old or len(events) > MAX_REPLAY:
        await ws.send_text(refresh_all_message(hub.last_seq))
        conn.finish_replay(hub.last_seq)
        return
    for event in events:
        await ws.send_text(await hub.render(event))
    conn.finish_replay(events[-1].seq if events else conn.last_seq)


async def _send_loop(ws: WebSocket, conn: Connection) -> None:
    while True:
        message = await conn.queue.get()
        await ws.send_text(message)


async def _receive_loop(ws: WebSocket) -> None:
    # The page sends nothing; we read only to notice the close.
    while True:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            return


async def _watch(ws: WebSocket, conn: Connection, token: str) -> None:
    """Close a client that fell behind, or whose session ended while it was connected."""
    state = ws.app.state
    while True:
        try:
            await asyncio.wait_for(conn.overflowed.wait(), timeout=RECHECK_SECONDS)
        except TimeoutError:
            async with UnitOfWork(state.session_factory) as uow:
                if await actor_for_token(uow, token) is None:
                    await ws.close(code=CLOSE_POLICY)
                    return
            continue
        await ws.close(code=CLOSE_TRY_AGAIN)
        return
