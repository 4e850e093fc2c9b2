"""The live meeting room (会议室): one page every participant keeps open.

Actions are small htmx posts that answer 204; what changed reaches every open
room through the live socket (shared fragments rendered once per change, and
each participant re-fetching their own controls). Without JavaScript the same
forms post and redirect back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import segno
from markupsafe import Markup
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from domain.conference import floor, meeting
from domain.conference.room_view import PARTS, RoomView, load_room
from domain.errors import NotFound
from domain.models import Decision, Unit
from web.deps import form_dict, int_param, require_actor, uow
from web.htmx import htmx

GET, POST = ["GET"], ["POST"]
# Parts whose change means each participant's own controls may change too.
CONTROL_PARTS = {"status", "item", "attendance", "speakers", "vote", "controls"}


async def room_page(request: Request) -> Response:
    actor = require_actor(request)
    session_id = request.path_params["session_id"]
    async with uow(request, actor) as work:
        _session, access = await meeting.load_session(work, actor, session_id)
        room = await load_room(work, session_id)
    assert room is not None
    return request.app.state.templates.render(
        request,
        "conference/room.html",
        {
            "room": room,
            "access": access,
            "live_topics": [meeting.session_topic(session_id)],
            "presence": meeting.session_topic(session_id),
        },
    )


async def render_room_parts(app: Any, session_id: int, parts: set[str]) -> tuple[str, str]:
    """Shared fragments for the parts that changed, and the regions each page re-fetches."""
    from domain.uow import UnitOfWork

    wanted = frozenset(p for p in parts if p in PARTS)
    async with UnitOfWork(app.state.session_factory) as work:
        room = await load_room(work, session_id, wanted)
    if room is None:
        return "", "*"
    module = app.state.templates.env.get_template("conference/_room_parts.html").module
    html = "".join(str(getattr(module, part)(room, oob=True)) for part in PARTS if part in wanted)
    refresh = []
    if parts & CONTROL_PARTS:
        refresh.append("room-controls")
    if parts & {"item", "status"}:
        refresh.append("room-editor")
    return html, " ".join(refresh)


def _done(request: Request, session_id: int) -> Response:
    if htmx(request).request:
        return Response(status_code=204)
    return RedirectResponse(f"/sessions/{session_id}/room", status_code=303)


def _action(
    run: Callable[[Any, Any, Request, dict[str, str]], Awaitable[int]],
) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a room action: parse the form, run it in a unit of work, commit, answer."""

    async def endpoint(request: Request) -> Response:
        actor = require_actor(request)
        data = await form_dict(request)
        async with uow(request, actor) as work:
            session_id = await run(work, actor, request, data)
            await work.commit()
        return _done(request, session_id)

    return endpoint


async def _open(work: Any, actor: Any, request: Request, data: dict[str, str]) -> int:
    session = await meeting.open_session(work, actor, request.path_params["session_id"])
    return session.id


async def _close(work: Any, actor: Any, request: Request, data: dict[str, str]) -> int:
    session = await meeting.close_session(work, actor, request.path_params["session_id"])
    return session.id


async def _advance(work: Any, actor: Any, request: Request, data: dict[str, str]) -> int:
    session_id = request.path_params["session_id"]
    await meeting.advance(work, actor, session_id, int_param(data.get("item_id")))
    return int(session_id)


async def _manual_sign_in(work: Any, actor: Any, request: Request, data: dict[str, str]) -> int:
    session_id = request.path_params["session_id"]
    await meeting.sign_in(work, actor, session_id, int_param(data.get("unit_id")))
    return int(session_id)


async def _speak(work: Any, actor: Any, request: Request, data: dict[str, str]) -> int:
    req = await floor.request_to_speak(
        work, actor, request.path_params["item_id"], int_param(data.get("unit_id"))
    )
    return await _session_of_item(work, req.item_id)


async def _grant(work: Any, actor: Any, request: Request, data: dict[str, str]) -> int:
    req = await floor.grant_floor(work, actor, request.path_params["request_id"])
    return await _session_of_item(work, req.item_id)


async def _end(work: Any, actor: Any, request: Request, data: dict[str, str]) -> int:
    req = await floor.end_floor(work, actor, request.path_params["request_id"])
    return await _session_of_item(work, req.item_id)


async def _withdraw(work: Any, actor: Any, request: Request, data: dict[str, str]) -> int:
    req = await floor.withdraw(work, actor, request.path_params["request_id"])
    return await _session_of_item(work, req.item_id)


async def _notes(work: Any, actor: Any, request: Request, data: dict[str, str]) -> int:
    item = await floor.save_notes(
        work,
        actor,
        request.path_params["item_id"],
        int_param(data.get("version")),
        data.get("notes", ""),
    )
    return item.session_id


async def _open_vote(work: Any, actor: Any, request: Request, data: dict[str, str]) -> int:
    vote = await floor.open_vote(
        work, actor, request.path_params["item_id"], data.get("motion", "")
    )
    return await _session_of_item(work, vote.item_id)


async def _ballot(work: Any, actor: Any, request: Request, data: dict[str, str]) -> int:
    ballot = await floor.cast_ballot(
        work,
        actor,
        request.path_params["vote_id"],
        int_param(data.get("unit_id")),
        data.get("choice", ""),
    )
    from domain.models import Vote

    vote = await work.session.get(Vote, ballot.vote_id)
    return await _session_of_item(work, vote.item_id)


async def _close_vote(work: Any, actor: Any, request: Request, data: dict[str, str]) -> int:
    vote = await floor.close_vote(work, actor, request.path_params["vote_id"])
    return await _session_of_item(work, vote.item_id)


async def decision_create(request: Request) -> Response:
    actor = require_actor(request)
    form = await request.form()
    data = {k: v for k, v in form.items() if isinstance(v, str)}
    assisting = [v for v in form.getlist("assisting") if isinstance(v, str)]
    async with uow(request, actor) as work:
        decision = await floor.record_decision(
            work, actor, request.path_params["item_id"], data, assisting
        )
        await work.commit()
    return _done(request, decision.session_id)


async def _session_of_item(work: Any, item_id: int) -> int:
    from domain.models import AgendaItem

    item = await work.session.get(AgendaItem, item_id)
    return int(item.session_id)


# Sign-in by QR ----------------------------------------------------------------------------


def signin_url(request: Request, session_id: int, secret: str) -> str:
    origin = request.app.state.config.public_origin or str(request.base_url).rstrip("/")
    return f"{origin}/sessions/{session_id}/signin?k={secret}"


async def qr_page(request: Request) -> Response:
    """Shown on the venue's screen: the QR code opens the sign-in page for logged-in members."""
    actor = require_actor(request)
    session_id = request.path_params["session_id"]
    async with uow(request, actor) as work:
        session, access = await meeting.load_session(work, actor, session_id)
        access.require_manage()
    url = signin_url(request, session.id, session.signin_secret)
    svg = segno.make(url, error="m").svg_inline(scale=8, dark="#1f2328")
    return request.app.state.templates.render(
        request,
        "conference/qr.html",
        {"session": session, "qr": Markup(svg), "url": url},
    )


async def signin_page(request: Request) -> Response:
    actor = require_actor(request)
    session_id = request.path_params["session_id"]
    secret = request.query_params.get("k", "")
    async with uow(request, actor) as work:
        session, access = await meeting.load_session(work, actor, session_id)
        room = await load_room(work, session_id, frozenset({"attendance"}))
    assert room is not None
    valid = secret == session.signin_secret
    return request.app.state.templates.render(
        request,
        "conference/signin.html",
        {"session": session, "access": access, "room": room, "secret": secret, "valid": valid},
        status_code=200 if valid else 400,
    )


async def signin_submit(request: Request) -> Response:
    actor = require_actor(request)
    session_id = request.path_params["session_id"]
    data = await form_dict(request)
    async with uow(request, actor) as work:
        await meeting.sign_in(
            work, actor, session_id, int_param(data.get("unit_id")), secret=data.get("k", "")
        )
        await work.commit()
    return RedirectResponse(f"/sessions/{session_id}/room", status_code=303)


# Decisions and their follow-up ------------------------------------------------------------


async def decision_page(request: Request) -> Response:
    """A decided item: what was decided, and the task that follows it up."""
    from domain.models import Task

    actor = require_actor(request)
    decision_id = request.path_params["decision_id"]
    async with uow(request, actor) as work:
        decision, room, access = await _decision(work, actor, decision_id)
        task_id = await work.session.scalar(select(Task.id).where(Task.decision_id == decision.id))
    return request.app.state.templates.render(
        request,
        "conference/decision.html",
        {
            "decision": decision,
            "room": room,
            "task_id": task_id,
            "live_topics": [f"street:{access.street_id}"] if access.street_id else [],
        },
    )


async def _decision(work: Any, actor: Any, decision_id: int) -> tuple[Decision, RoomView, Any]:
    decision = await work.session.get(Decision, decision_id)
    if decision is None:
        raise NotFound("议定事项不存在。")
    session, access = await meeting.load_session(work, actor, decision.session_id)
    room = await load_room(work, session.id, frozenset({"status"}))
    assert room is not None
    ids = {decision.lead_unit_id} | {int(i) for i in decision.assisting_unit_ids.split(",") if i}
    room.unit_names = {
        u.id: u.name for u in await work.session.scalars(select(Unit).where(Unit.id.in_(ids)))
    }
    return decision, room, access


ROUTES: list[BaseRoute] = [
    Route("/sessions/{session_id:id}/room", room_page, methods=GET),
    Route("/sessions/{session_id:id}/open", _action(_open), methods=POST),
    Route("/sessions/{session_id:id}/close", _action(_close), methods=POST),
    Route("/sessions/{session_id:id}/advance", _action(_advance), methods=POST),
    Route("/sessions/{session_id:id}/sign-in", _action(_manual_sign_in), methods=POST),
    Route("/sessions/{session_id:id}/qr", qr_page, methods=GET),
    Route("/sessions/{session_id:id}/signin", signin_page, methods=GET),
    Route("/sessions/{session_id:id}/signin", signin_submit, methods=POST),
    Route("/items/{item_id:id}/speak", _action(_speak), methods=POST),
    Route("/items/{item_id:id}/notes", _action(_notes), methods=POST),
    Route("/items/{item_id:id}/votes", _action(_open_vote), methods=POST),
    Route("/items/{item_id:id}/decisions", decision_create, methods=POST),
    Route("/speakers/{request_id:id}/grant", _action(_grant), methods=POST),
    Route("/speakers/{request_id:id}/end", _action(_end), methods=POST),
    Route("/speakers/{request_id:id}/withdraw", _action(_withdraw), methods=POST),
    Route("/votes/{vote_id:id}/ballot", _action(_ballot), methods=POST),
    Route("/votes/{vote_id:id}/close", _action(_close_vote), methods=POST),
    Route("/decisions/{decision_id:id}", decision_page, methods=GET),
]
