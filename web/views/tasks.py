"""Task pages: my tasks (boards and worklists), a street's list, the new-task form, one task."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from domain.enums import LimitUnit, Rating, ReturnReason, TaskSource, TaskState, WhistleKind
from domain.errors import DomainError, NotFound, ValidationFailed
from domain.models.base import utcnow
from domain.parsing import parse_id
from domain.tasks import board, forms, handoff
from domain.topics import street_topic, unit_topic
from web.deps import form_dict, int_param, require_actor, uow

GET, POST = ["GET"], ["POST"]
DONE_MESSAGES = {
    "1": "任务已创建。",
    "assign": "已交办。",
    "accept": "已签收。",
    "return": "已提交退回申请。",
    "reassign": "已改派。",
    "insist": "已坚持交办。",
    "rule": "已裁定承办单位。",
    "progress": "进展已反馈。",
    "report": "办结情况已反馈。",
    "extension": "延期申请已提交。",
    "extension-decide": "已处理延期申请。",
    "review": "审核意见已提交。",
    "rate": "评价已提交。",
    "close": "已销号。",
    "archive": "已归档。",
    "comment": "留言已发布。",
}

FORM_SOURCES = {
    "assignment": TaskSource.ASSIGNMENT,
    "whistle": TaskSource.WHISTLE,
    "dept_handoff": TaskSource.DEPT_HANDOFF,
}


async def my_tasks(request: Request) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        mine = await board.my_tasks(work, actor)
    topics = [unit_topic(b.unit.id) for b in mine.boards]
    topics += [unit_topic(w.unit.id) for w in mine.worklists]
    return request.app.state.templates.render(
        request,
        "tasks/index.html",
        {"mine": mine, "now": utcnow(), "live_topics": sorted(set(topics))[:19]},
    )


async def street_list(request: Request) -> Response:
    actor = require_actor(request)
    street_id = request.path_params["street_id"]
    q = request.query_params
    filters = board.TaskFilters(
        state=q.get("state", "") if q.get("state", "") in set(TaskState) else "",
        source=q.get("source", "") if q.get("source", "") in set(TaskSource) else "",
        unit_id=parse_id(q.get("unit", "")),
        q=q.get("q", "").strip()[:50],
        page=int_param(q.get("page"), 1),
    )
    async with uow(request, actor) as work:
        listing = await board.street_tasks(work, actor, street_id, filters)
    base = "?" + "&".join(
        f"{k}={v}"
        for k, v in (
            ("state", filters.state),
            ("source", filters.source),
            ("unit", filters.unit_id or ""),
            ("q", filters.q),
        )
        if v
    )
    return request.app.state.templates.render(
        request,
        "tasks/street.html",
        {
            "listing": listing,
            "filters": filters,
            "base": (base + "&") if base != "?" else "?",
            "states": list(TaskState),
            "sources": list(TaskSource),
            "imported": q.get("imported"),
            "live_topics": [street_topic(street_id)],
        },
    )


def _source(request: Request) -> TaskSource:
    source = FORM_SOURCES.get(request.query_params.get("source", "assignment"))
    if source is None:
        raise NotFound("没有这类任务。")
    return source


async def _render_new(
    request: Request,
    street_id: int,
    source: TaskSource,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        options = await forms.task_form(work, actor, street_id, source)
    values = dict(options.defaults)
    values.update(form or {})
    return request.app.state.templates.render(
        request,
        "tasks/new.html",
        {
            "options": options,
            "form": values,
            "assisting": [int(a) for a in values.get("assisting", []) if str(a).isdigit()],
            "errors": errors or {},
            "message": message,
            "limit_units": list(LimitUnit),
            "whistle_kinds": list(WhistleKind),
        },
        status_code=status,
    )


async def new_task(request: Request) -> Response:
    return await _render_new(request, request.path_params["street_id"], _source(request))


async def create_task(request: Request) -> Response:
    actor = require_actor(request)
    street_id = request.path_params["street_id"]
    source = _source(request)
    form = await request.form()
    data = await form_dict(request)
    assisting = [v for v in form.getlist("assisting") if isinstance(v, str)]
    assign_now = data.get("submit") != "draft"
    try:
        async with uow(request, actor) as work:
            task = await handoff.create_task(
                work, actor, street_id, source, data, assisting, assign_now=assign_now
            )
            await work.commit()
    except ValidationFailed as exc:
        values: dict[str, Any] = dict(data)
        values["assisting"] = assisting
        return await _render_new(
            request, street_id, source, values, exc.fields, exc.message, status=400
        )
    return RedirectResponse(f"/tasks/{task.id}?created=1", status_code=303)


async def render_task(
    request: Request,
    task_id: int,
    *,
    form: dict[str, str] | None = None,
    form_name: str = "",
    error: DomainError | None = None,
) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        page = await board.task_page(work, actor, task_id)
    return request.app.state.templates.render(
        request,
        "tasks/detail.html",
        {
            "page": page,
            "task": page.access.task,
            "form": form or {},
            "form_name": form_name,
            "errors": getattr(error, "fields", {}) if error else {},
            "message": error.message if error else None,
            "return_reasons": list(ReturnReason),
            "ratings": list(Rating),
            "flash": DONE_MESSAGES.get(
                request.query_params.get("done") or request.query_params.get("created") or ""
            ),
            "live_topics": [f"task:{task_id}"],
        },
        status_code=error.status if error else 200,
    )


async def task_detail(request: Request) -> Response:
    return await render_task(request, request.path_params["task_id"])


ROUTES: list[BaseRoute] = [
    Route("/tasks", my_tasks, methods=GET, name="tasks"),
    Route("/streets/{street_id:id}/tasks", street_list, methods=GET),
    Route("/streets/{street_id:id}/tasks/new", new_task, methods=GET),
    Route("/streets/{street_id:id}/tasks", create_task, methods=POST),
    Route("/tasks/{task_id:id}", task_detail, methods=GET),
]
