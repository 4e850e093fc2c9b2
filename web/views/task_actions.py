"""One POST per task action. Each parses the form, calls its service and goes back to
the task page; input the user can fix (or a change someone else made first) re-renders
the page with the form as typed and the message."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from sqlalchemy import select
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from domain.conference.materials import clean_content_type, clean_filename
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.models import TaskReport
from domain.permissions import Actor
from domain.tasks import handling, returns, review
from domain.tasks import handoff as handoff_svc
from domain.tasks.access import task_access
from domain.tasks.handling import MAX_ATTACHMENT, Attachment
from domain.uow import UnitOfWork
from web.deps import form_dict, int_param, require_actor, uow
from web.views.tasks import render_task

POST = ["POST"]
Handler = Callable[[UnitOfWork, Actor, int, dict[str, str], Attachment | None], Awaitable[None]]


async def _attachment(request: Request) -> Attachment | None:
    form = await request.form()
    upload = form.get("attachment")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    data = await upload.read(MAX_ATTACHMENT + 1)
    return Attachment(
        clean_filename(upload.filename), clean_content_type(upload.content_type or ""), data
    )


def _version(data: dict[str, str]) -> int | None:
    return int_param(data.get("version")) or None


def _unit(data: dict[str, str]) -> int:
    return int_param(data.get("unit_id"))


def action(
    name: str, handler: Handler, files: bool = False
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        actor = require_actor(request)
        task_id = request.path_params["task_id"]
        data = await form_dict(request)
        attachment = await _attachment(request) if files else None
        try:
            async with uow(request, actor) as work:
                await handler(work, actor, task_id, data, attachment)
                await work.commit()
        except (ValidationFailed, Conflict) as exc:
            return await render_task(request, task_id, form=data, form_name=name, error=exc)
        return RedirectResponse(f"/tasks/{task_id}?done={quote(name)}", status_code=303)

    return endpoint


async def _assign(
    w: UnitOfWork, a: Actor, t: int, d: dict[str, str], _f: Attachment | None
) -> None:
    assisting = [x for x in d.get("assisting_ids", "").split(",") if x]
    await handoff_svc.assign_draft(w, a, t, int_param(d.get("version")), d, assisting)


async def _accept(
    w: UnitOfWork, a: Actor, t: int, d: dict[str, str], _f: Attachment | None
) -> None:
    await handling.accept(w, a, t, _unit(d), _version(d))


async def _return(
    w: UnitOfWork, a: Actor, t: int, d: dict[str, str], _f: Attachment | None
) -> None:
    await handling.request_return(w, a, t, _unit(d), _version(d), d)


async def _reassign(
    w: UnitOfWork, a: Actor, t: int, d: dict[str, str], _f: Attachment | None
) -> None:
    await returns.reassign(w, a, t, int_param(d.get("version")), d)


async def _insist(
    w: UnitOfWork, a: Actor, t: int, d: dict[str, str], _f: Attachment | None
) -> None:
    await returns.insist(w, a, t, int_param(d.get("version")), d.get("note", ""))


async def _rule(w: UnitOfWork, a: Actor, t: int, d: dict[str, str], _f: Attachment | None) -> None:
    await returns.rule_dispute(w, a, t, int_param(d.get("version")), d)


async def _progress(
    w: UnitOfWork, a: Actor, t: int, d: dict[str, str], f: Attachment | None
) -> None:
    await handling.report_progress(w, a, t, _unit(d), d, f)


async def _report(w: UnitOfWork, a: Actor, t: int, d: dict[str, str], f: Attachment | None) -> None:
    await handling.report_result(w, a, t, _unit(d), _version(d), d, f)


async def _extension(
    w: UnitOfWork, a: Actor, t: int, d: dict[str, str], _f: Attachment | None
) -> None:
    await handling.request_extension(w, a, t, _unit(d), _version(d), d)


async def _decide(
    w: UnitOfWork, a: Actor, t: int, d: dict[str, str], _f: Attachment | None
) -> None:
    approve = d.get("decision") == "approve"
    if d.get("decision") not in ("approve", "refuse"):
        raise ValidationFailed({"decision": "请选择同意或不同意。"})
    await handling.decide_extension(w, a, t, _version(d), approve, d.get("note", ""))


async def _review(
    w: UnitOfWork, a: Actor, t: int, d: dict[str, str], _f: Attachment | None
) -> None:
    if d.get("decision") not in ("pass", "fail"):
        raise ValidationFailed({"decision": "请选择审核通过或退回重办。"})
    await review.review(w, a, t, _version(d), d.get("decision") == "pass", d.get("note", ""))


async def _rate(w: UnitOfWork, a: Actor, t: int, d: dict[str, str], _f: Attachment | None) -> None:
    await review.rate(w, a, t, _version(d), d)


async def _close(w: UnitOfWork, a: Actor, t: int, d: dict[str, str], _f: Attachment | None) -> None:
    await review.close(w, a, t, _version(d))


async def _archive(
    w: UnitOfWork, a: Actor, t: int, d: dict[str, str], _f: Attachment | None
) -> None:
    await review.archive(w, a, t, _version(d))


async def _comment(
    w: UnitOfWork, a: Actor, t: int, d: dict[str, str], _f: Attachment | None
) -> None:
    await review.comment(w, a, t, d.get("text", ""))


async def attachment(request: Request) -> Response:
    """A report's attachment, for whoever may read the task."""
    actor = require_actor(request)
    task_id = request.path_params["task_id"]
    report_id = request.path_params["report_id"]
    async with uow(request, actor) as work:
        await task_access(work, actor, task_id)
        row = (
            await work.session.execute(
                select(
                    TaskReport.attachment_name, TaskReport.attachment_type, TaskReport.attachment
                ).where(TaskReport.id == report_id, TaskReport.task_id == task_id)
            )
        ).first()
    if row is None or row.attachment is None:
        raise NotFound("附件不存在。")
    name = row.attachment_name or "attachment"
    return Response(
        row.attachment,
        media_type=row.attachment_type or "application/octet-stream",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _route(path: str, name: str, handler: Handler, files: bool = False) -> Route:
    return Route(f"/tasks/{{task_id:id}}/{path}", action(name, handler, files), methods=POST)


ROUTES: list[BaseRoute] = [
    _route("assign", "assign", _assign),
    _route("accept", "accept", _accept),
    _route("return", "return", _return),
    _route("reassign", "reassign", _reassign),
    _route("insist", "insist", _insist),
    _route("rule", "rule", _rule),
    _route("progress", "progress", _progress, files=True),
    _route("report", "report", _report, files=True),
    _route("extension", "extension", _extension),
    _route("extension/decide", "extension-decide", _decide),
    _route("review", "review", _review),
    _route("rate", "rate", _rate),
    _route("close", "close", _close),
    _route("archive", "archive", _archive),
    _route("comment", "comment", _comment),
    Route("/tasks/{task_id:id}/reports/{report_id:id}/attachment", attachment, methods=["GET"]),
]
