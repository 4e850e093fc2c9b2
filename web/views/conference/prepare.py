"""Conference pages: before a session (see the package docstring). Sessions, their states,
agenda and replies are here; the topic call is in `topic_call.py`, materials and the .ics
invitation in `session_files.py`. Handlers parse, call one service, and redirect or
re-render the page with what was typed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from domain.conference import agenda, replies, sessions
from domain.conference.access import conference_access
from domain.conference.rules import to_beijing_input
from domain.conference.session_view import SessionPrep, session_prep
from domain.enums import SessionKind, SessionMode
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.models import AgendaItem, Conference, MeetingSession
from domain.permissions import Actor
from domain.uow import UnitOfWork
from web.deps import form_dict, int_param, require_actor, uow
from web.views.conference import session_files, topic_call
from web.views.conference.prep_page import render_prep, to_page

GET, POST = ["GET"], ["POST"]

# ---- creating and editing a session -------------------------------------------------------


async def session_new(request: Request) -> Response:
    actor = require_actor(request)
    cid = request.path_params["conference_id"]
    async with uow(request, actor) as work:
        access = await conference_access(work, actor, cid)
    access.require_manage()
    form = {"kind": SessionKind.REGULAR.value, "mode": SessionMode.IN_PERSON.value}
    return _session_form(request, access.conference, None, form)


async def session_create(request: Request) -> Response:
    actor = require_actor(request)
    cid = request.path_params["conference_id"]
    data = await form_dict(request)
    try:
        async with uow(request, actor) as work:
            session = await sessions.create_session(work, actor, cid, data)
            await work.commit()
    except ValidationFailed as exc:
        async with uow(request, actor) as work:
            access = await conference_access(work, actor, cid)
        return _session_form(request, access.conference, None, data, exc.fields, exc.message, 400)
    return RedirectResponse(f"/sessions/{session.id}?done=created", status_code=303)


async def session_edit(request: Request) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        prep = await session_prep(work, actor, request.path_params["session_id"])
    prep.access.require_manage()
    s = prep.session
    form = {
        "title": s.title,
        "kind": s.kind,
        "starts_at": to_beijing_input(s.starts_at),
        "ends_at": to_beijing_input(s.ends_at),
        "place": s.place,
        "mode": s.mode,
        "version": str(s.version),
    }
    return _session_form(request, prep.access.conference, s, form)


async def session_update(request: Request) -> Response:
    actor = require_actor(request)
    sid = request.path_params["session_id"]
    data = await form_dict(request)
    try:
        async with uow(request, actor) as work:
            await sessions.update_session(work, actor, sid, int_param(data.get("version")), data)
            await work.commit()
    except (ValidationFailed, Conflict) as exc:
        async with uow(request, actor) as work:
            prep = await session_prep(work, actor, sid)
        fields = exc.fields if isinstance(exc, ValidationFailed) else {}
        return _session_form(
            request, prep.access.conference, prep.session, data, fields, exc.message, exc.status
        )
    return RedirectResponse(f"/sessions/{sid}?done=saved", status_code=303)


def _session_form(
    request: Request,
    conference: Conference,
    session: MeetingSession | None,
    form: dict[str, str],
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> Response:
    return request.app.state.templates.render(
        request,
        "conference/session_form.html",
        {
            "conference": conference,
            "session": session,
            "form": form,
            "errors": errors or {},
            "message": message,
            "SessionKind": SessionKind,
            "SessionMode": SessionMode,
        },
        status_code=status,
    )


# ---- the preparation page -----------------------------------------------------------------


async def session_page(request: Request) -> Response:
    return await render_prep(request)


Step = Callable[[UnitOfWork, Actor, dict[str, str]], Awaitable[Any]]


async def _step(request: Request, failed: str, done: str, step: Step) -> Response:
    """Run one use case from a form on the prep page: redirect back, or re-render with why not."""
    actor = require_actor(request)
    sid = request.path_params["session_id"]
    data = await form_dict(request)
    try:
        async with uow(request, actor) as work:
            result = await step(work, actor, data)
            await work.commit()
    except (ValidationFailed, Conflict) as exc:
        fields = exc.fields if isinstance(exc, ValidationFailed) else {}
        return await render_prep(request, failed, data, fields, exc.message, exc.status)
    late = "&late=1" if getattr(result, "warning", "") else ""
    anchor = {"item": "#session-agenda", "reply": "#session-replies"}.get(done, "")
    return RedirectResponse(f"/sessions/{sid}?done={done}{late}{anchor}", status_code=303)


Transition = Callable[[UnitOfWork, Actor, int, int], Awaitable[sessions.TransitionResult]]


def _transition(action: Transition, done: str) -> Callable[[Request], Awaitable[Response]]:
    async def handler(request: Request) -> Response:
        sid = request.path_params["session_id"]
        return await _step(
            request,
            "transition",
            done,
            lambda w, a, d: action(w, a, sid, int_param(d.get("version"))),
        )

    return handler


async def item_add(request: Request) -> Response:
    sid = request.path_params["session_id"]
    return await _step(request, "item", "item", lambda w, a, d: agenda.add_item(w, a, sid, d))


async def item_delete(request: Request) -> Response:
    sid, iid = request.path_params["session_id"], request.path_params["item_id"]
    return await _step(
        request,
        "item_list",
        "item",
        lambda w, a, d: agenda.delete_item(w, a, sid, iid, int_param(d.get("version"))),
    )


async def item_move(request: Request) -> Response:
    sid, iid = request.path_params["session_id"], request.path_params["item_id"]
    return await _step(
        request,
        "item_list",
        "item",
        lambda w, a, d: agenda.move_item(w, a, sid, iid, d.get("direction", "")),
    )


async def reply_submit(request: Request) -> Response:
    sid = request.path_params["session_id"]
    return await _step(request, "reply", "reply", lambda w, a, d: replies.reply(w, a, sid, d))


# ---- editing one agenda item --------------------------------------------------------------


async def item_edit(request: Request) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        prep = await session_prep(work, actor, request.path_params["session_id"])
    prep.access.require_manage()
    item = _item_of(prep, request.path_params["item_id"])
    form = {"title": item.title, "description": item.description, "version": str(item.version)}
    return _item_form(request, prep, item, form)


async def item_update(request: Request) -> Response:
    actor = require_actor(request)
    sid, iid = request.path_params["session_id"], request.path_params["item_id"]
    data = await form_dict(request)
    try:
        async with uow(request, actor) as work:
            await agenda.update_item(work, actor, sid, iid, int_param(data.get("version")), data)
            await work.commit()
    except (ValidationFailed, Conflict) as exc:
        async with uow(request, actor) as work:
            prep = await session_prep(work, actor, sid)
        fields = exc.fields if isinstance(exc, ValidationFailed) else {}
        item = _item_of(prep, iid)
        return _item_form(request, prep, item, data, fields, exc.message, exc.status)
    return RedirectResponse(f"/sessions/{sid}?done=item#session-agenda", status_code=303)


def _item_of(prep: SessionPrep, item_id: int) -> AgendaItem:
    for item in prep.items:
        if item.id == item_id:
            return item
    raise NotFound("议题不存在，可能已被删除。")


def _item_form(
    request: Request,
    prep: SessionPrep,
    item: AgendaItem,
    form: dict[str, str],
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> Response:
    return request.app.state.templates.render(
        request,
        "conference/session_item_form.html",
        {
            "prep": prep,
            "s": prep.session,
            "item": item,
            "form": form,
            "errors": errors or {},
            "message": message,
        },
        status_code=status,
    )


_S = "/sessions/{session_id:id}"
ROUTES: list[BaseRoute] = [
    *topic_call.ROUTES,
    *session_files.ROUTES,
    Route("/conferences/{conference_id:id}/sessions/new", session_new, methods=GET),
    Route("/conferences/{conference_id:id}/sessions", session_create, methods=POST),
    Route(_S, session_page, methods=GET, name="session"),
    Route(_S, session_update, methods=POST),
    Route(_S + "/edit", session_edit, methods=GET),
    Route(_S + "/call", _transition(sessions.open_topic_call, "open_topic_call"), methods=POST),
    Route(_S + "/fix-agenda", _transition(sessions.fix_agenda, "fix_agenda"), methods=POST),
    Route(_S + "/notice", _transition(sessions.send_notice, "send_notice"), methods=POST),
    Route(_S + "/items", item_add, methods=POST),
    Route(_S + "/items/{item_id:id}/edit", item_edit, methods=GET),
    Route(_S + "/items/{item_id:id}", item_update, methods=POST),
    Route(_S + "/items/{item_id:id}/delete", item_delete, methods=POST),
    Route(_S + "/items/{item_id:id}/move", item_move, methods=POST),
    Route(_S + "/reply", reply_submit, methods=POST),
    # A page re-rendered after a refused form sits at the form's address: GET goes to the page.
    *(
        Route(_S + tail, to_page, methods=GET)
        for tail in (
            "/call",
            "/fix-agenda",
            "/notice",
            "/items",
            "/items/{item_id:id}/delete",
            "/items/{item_id:id}/move",
            "/reply",
        )
    ),
]
