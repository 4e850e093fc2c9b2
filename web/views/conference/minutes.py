"""Conference pages: minutes (edit, co-sign, issue, archive), their .docx and print page,
and the archive search (see the package docstring)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from adapters.minutes_docx import minutes_docx
from domain.conference import archive as arc
from domain.conference import minutes as svc
from domain.conference.minutes_support import MinutesView
from domain.errors import Conflict, ValidationFailed
from domain.parsing import parse_id
from domain.permissions import Actor
from domain.topics import street_topic
from domain.uow import UnitOfWork
from web.deps import form_dict, int_param, require_actor, uow

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# What the page says after a successful action (the redirect carries the key).
DONE = {
    "saved": "纪要已保存。",
    "co_signing": "已发起会签，并已通知各成员单位联络员。",
    "reopened": "已退回修改，原有会签已撤销。",
    "signed": "已代表本单位会签。",
    "reminded": "已向未会签单位的联络员发送催办通知。",
    "issued": "会议纪要已印发。",
    "archived": "会议已归档。",
}

Action = Callable[[UnitOfWork, Actor, int, dict[str, str]], Awaitable[object]]


def _topics(view: MinutesView) -> list[str]:
    street = view.access.street_id
    return [street_topic(street)] if street is not None else []


def _render(request: Request, view: MinutesView, status: int = 200, **extra: object) -> Response:
    done = request.query_params.get("done", "")
    context: dict[str, object] = {
        "view": view,
        "form": {"body": view.minutes.body, "version": str(view.minutes.version)},
        "notice": DONE.get(done, "") if status == 200 else "",
        "live_topics": _topics(view),
        "conflict": False,
    }
    context.update(extra)
    return request.app.state.templates.render(
        request, "conference/minutes.html", context, status_code=status
    )


async def minutes_page(request: Request) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        view = await svc.minutes_view(work, actor, request.path_params["session_id"])
    return _render(request, view)


async def _act(request: Request, action: Action, done: str) -> Response:
    """Run one write use case; on a refusal show the page again with the message and
    everything the user typed."""
    actor = require_actor(request)
    session_id: int = request.path_params["session_id"]
    data = await form_dict(request)
    try:
        async with uow(request, actor) as work:
            await action(work, actor, session_id, data)
            await work.commit()
    except (ValidationFailed, Conflict) as exc:
        async with uow(request, actor) as work:
            view = await svc.minutes_view(work, actor, session_id)
        form = {"body": view.minutes.body, "version": str(view.minutes.version), **data}
        return _render(
            request,
            view,
            status=exc.status,
            form=form,
            errors=exc.fields if isinstance(exc, ValidationFailed) else {},
            message=exc.message,
            conflict=isinstance(exc, Conflict),
        )
    return RedirectResponse(f"/sessions/{session_id}/minutes?done={done}", status_code=303)


def _version(data: dict[str, str]) -> int:
    return int_param(data.get("version"))


async def save(request: Request) -> Response:
    async def run(work: UnitOfWork, actor: Actor, sid: int, data: dict[str, str]) -> object:
        return await svc.save_body(work, actor, sid, _version(data), data.get("body", ""))

    return await _act(request, run, "saved")


async def start_co_signing(request: Request) -> Response:
    async def run(work: UnitOfWork, actor: Actor, sid: int, data: dict[str, str]) -> object:
        return await svc.start_co_signing(work, actor, sid, _version(data))

    return await _act(request, run, "co_signing")


async def reopen(request: Request) -> Response:
    async def run(work: UnitOfWork, actor: Actor, sid: int, data: dict[str, str]) -> object:
        return await svc.reopen_draft(work, actor, sid)

    return await _act(request, run, "reopened")


async def sign(request: Request) -> Response:
    async def run(work: UnitOfWork, actor: Actor, sid: int, data: dict[str, str]) -> object:
        unit_id = parse_id(data.get("unit_id", "")) or 0
        return await svc.sign(work, actor, sid, unit_id, data.get("comment", ""))

    return await _act(request, run, "signed")


async def remind(request: Request) -> Response:
    async def run(work: UnitOfWork, actor: Actor, sid: int, data: dict[str, str]) -> object:
        return await svc.remind(work, actor, sid)

    return await _act(request, run, "reminded")


async def issue(request: Request) -> Response:
    async def run(work: UnitOfWork, actor: Actor, sid: int, data: dict[str, str]) -> object:
        return await svc.issue(work, actor, sid)

    return await _act(request, run, "issued")


async def archive_session(request: Request) -> Response:
    async def run(work: UnitOfWork, actor: Actor, sid: int, data: dict[str, str]) -> object:
        return await svc.archive(work, actor, sid)

    return await _act(request, run, "archived")


async def docx(request: Request) -> Response:
    actor = require_actor(request)
    session_id: int = request.path_params["session_id"]
    async with uow(request, actor) as work:
        view = await svc.minutes_view(work, actor, session_id)
    name = f"{view.session.title}会议纪要{view.minutes.number_label}.docx"
    return Response(
        minutes_docx(view),
        media_type=DOCX,
        headers={
            "Content-Disposition": f'attachment; filename="minutes-{session_id}.docx"; '
            f"filename*=UTF-8''{quote(name)}"
        },
    )


async def print_page(request: Request) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        view = await svc.minutes_view(work, actor, request.path_params["session_id"])
    return request.app.state.templates.render(
        request, "conference/minutes_print.html", {"view": view}
    )


async def archive_page(request: Request) -> Response:
    actor = require_actor(request)
    conference_id: int = request.path_params["conference_id"]
    raw = {k: v[:100] for k, v in request.query_params.items()}
    errors: dict[str, str] = {}
    try:
        query = arc.parse_query(raw)
    except ValidationFailed as exc:
        query, errors = arc.ArchiveQuery(), exc.fields
    async with uow(request, actor) as work:
        page = await arc.search_archive(work, actor, conference_id, query)
    if errors:
        page.rows, page.total = [], 0  # a bad filter finds nothing rather than everything
    street = page.access.street_id
    base = urlencode({k: v for k, v in raw.items() if k != "page" and v})
    return request.app.state.templates.render(
        request,
        "conference/archive.html",
        {
            "page": page,
            "form": raw,
            "errors": errors,
            "message": "请修正标出的筛选条件。" if errors else None,
            "base": f"/conferences/{conference_id}/archive?{base}{'&' if base else ''}",
            "live_topics": [street_topic(street)] if street is not None else [],
        },
        status_code=400 if errors else 200,
    )


GET, POST = ["GET"], ["POST"]
ROUTES: list[BaseRoute] = [
    Route("/sessions/{session_id:id}/minutes", minutes_page, methods=GET, name="minutes"),
    Route("/sessions/{session_id:id}/minutes", save, methods=POST),
    Route("/sessions/{session_id:id}/minutes/co-signing", start_co_signing, methods=POST),
    Route("/sessions/{session_id:id}/minutes/reopen", reopen, methods=POST),
    Route("/sessions/{session_id:id}/minutes/sign", sign, methods=POST),
    Route("/sessions/{session_id:id}/minutes/remind", remind, methods=POST),
    Route("/sessions/{session_id:id}/minutes/issue", issue, methods=POST),
    Route("/sessions/{session_id:id}/minutes/archive", archive_session, methods=POST),
    Route("/sessions/{session_id:id}/minutes.docx", docx, methods=GET),
    Route("/sessions/{session_id:id}/minutes/print", print_page, methods=GET),
    Route("/conferences/{conference_id:id}/archive", archive_page, methods=GET, name="archive"),
]
