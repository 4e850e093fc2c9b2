"""Two-way claiming (双向认领) and co-building projects (共建项目): claim and request forms
posted from a need/resource page, accept/decline/withdraw, my claims, the 项目清单, a
project's page with its agreement and progress, and the printable yearly report."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from domain.enums import ProjectState, Rating
from domain.errors import DomainError, ValidationFailed
from domain.sharing import claims as svc
from domain.sharing import projects as proj
from domain.topics import street_topic
from web.deps import form_dict, require_actor, uow
from web.views import sharing_lists

GET, POST = ["GET"], ["POST"]
CLAIM_DONE = {
    "claimed": "已提交，等待发布单位回复。",
    "declined": "已婉拒，对方会看到原因。",
    "withdrawn": "已撤回。",
}
PROJECT_DONE = {
    "created": "已接受认领，共建项目已立项。请双方填写共建协议。",
    "agreement": "共建协议已保存。",
    "update": "进展已记录。",
    "complete": "已报告完成，等待需求方评价。",
    "rate": "评价已提交。",
    "carry": "项目已结转下年。",
}


# ---- claims ---------------------------------------------------------------------------


async def claim(request: Request) -> Response:
    actor = require_actor(request)
    item_id: int = request.path_params["item_id"]
    which = "need" if request.url.path.startswith("/needs") else "resource"
    data = await form_dict(request)
    try:
        async with uow(request, actor) as work:
            if which == "need":
                await svc.claim_need(work, actor, item_id, data)
            else:
                await svc.request_resource(work, actor, item_id, data)
            await work.commit()
    except ValidationFailed as exc:
        return await sharing_lists.render_detail(request, item_id, form=data, error=exc)
    return RedirectResponse(f"/{which}s/{item_id}?done=claimed#claim-box", status_code=303)


async def accept(request: Request) -> Response:
    actor = require_actor(request)
    data = await form_dict(request)
    async with uow(request, actor) as work:
        project = await svc.accept(
            work, actor, request.path_params["claim_id"], data.get("version")
        )
        await work.commit()
    return RedirectResponse(f"/projects/{project.id}?done=created", status_code=303)


async def decline(request: Request) -> Response:
    actor = require_actor(request)
    claim_id: int = request.path_params["claim_id"]
    data = await form_dict(request)
    try:
        async with uow(request, actor) as work:
            await svc.decline(work, actor, claim_id, data.get("version"), data.get("reason", ""))
            await work.commit()
    except ValidationFailed as exc:
        return await render_claims(request, form={**data, "claim_id": str(claim_id)}, error=exc)
    return RedirectResponse("/claims?done=declined", status_code=303)


async def withdraw(request: Request) -> Response:
    actor = require_actor(request)
    data = await form_dict(request)
    async with uow(request, actor) as work:
        await svc.withdraw(work, actor, request.path_params["claim_id"], data.get("version"))
        await work.commit()
    return RedirectResponse("/claims?done=withdrawn", status_code=303)


async def render_claims(
    request: Request, *, form: dict[str, str] | None = None, error: DomainError | None = None
) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        mine = await svc.my_claims(work, actor)
    return request.app.state.templates.render(
        request,
        "sharing/claim_list.html",
        {
            "mine": mine,
            "form": form or {},
            "errors": getattr(error, "fields", {}) if error else {},
            "message": error.message if error else None,
            "flash": CLAIM_DONE.get(request.query_params.get("done", "")),
            "live_topics": [street_topic(s) for s in sorted(actor.visible_street_ids)],
        },
        status_code=error.status if error else 200,
    )


async def claim_list(request: Request) -> Response:
    return await render_claims(request)


# ---- projects -------------------------------------------------------------------------


def _year(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    if raw.isdigit() and 2000 <= int(raw) <= 2100:
        return int(raw)
    return None


async def project_list(request: Request) -> Response:
    actor = require_actor(request)
    street_id: int = request.path_params["street_id"]
    q = request.query_params
    year = _year(q.get("year")) if "year" in q else svc.beijing_year()
    state = q.get("state", "") if q.get("state", "") in set(ProjectState) else ""
    async with uow(request, actor) as work:
        street, items = await proj.list_projects(work, actor, street_id, year, state)
    this = svc.beijing_year()
    return request.app.state.templates.render(
        request,
        "sharing/project_list.html",
        {
            "street": street,
            "projects": items,
            "year": year,
            "state": state,
            "years": list(range(this + 1, this - 5, -1)),
            "states": list(ProjectState),
            "live_topics": [street_topic(street_id)],
        },
    )


async def render_project(
    request: Request,
    project_id: int,
    *,
    action: str = "",
    form: dict[str, str] | None = None,
    error: DomainError | None = None,
) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        page = await proj.get_project(work, actor, project_id)
    return request.app.state.templates.render(
        request,
        "sharing/project_detail.html",
        {
            "page": page,
            "p": page.project,
            "ratings": list(Rating),
            "action": action,
            "form": form or {},
            "errors": getattr(error, "fields", {}) if error else {},
            "message": error.message if error else None,
            "flash": PROJECT_DONE.get(request.query_params.get("done", "")),
            "live_topics": [street_topic(page.project.street_id)],
        },
        status_code=error.status if error else 200,
    )


async def project_detail(request: Request) -> Response:
    return await render_project(request, request.path_params["project_id"])


ACTIONS: dict[str, Any] = {
    "agreement": proj.set_agreement,
    "update": proj.add_update,
    "complete": proj.complete,
    "rate": proj.rate,
    "carry": proj.carry_over,
}


async def project_action(request: Request) -> Response:
    actor = require_actor(request)
    project_id: int = request.path_params["project_id"]
    action = request.url.path.rsplit("/", 1)[-1]
    data = await form_dict(request)
    try:
        async with uow(request, actor) as work:
            await ACTIONS[action](work, actor, project_id, data)
            await work.commit()
    except ValidationFailed as exc:
        return await render_project(request, project_id, action=action, form=data, error=exc)
    return RedirectResponse(f"/projects/{project_id}?done={action}", status_code=303)


async def project_report(request: Request) -> Response:
    actor = require_actor(request)
    street_id: int = request.path_params["street_id"]
    year = _year(request.query_params.get("year")) or svc.beijing_year()
    async with uow(request, actor) as work:
        report = await proj.project_report(work, actor, street_id, year)
    return request.app.state.templates.render(
        request, "sharing/project_report.html", {"report": report}
    )


ROUTES: list[BaseRoute] = [
    Route("/needs/{item_id:id}/claim", claim, methods=POST),
    Route("/resources/{item_id:id}/request", claim, methods=POST),
    Route("/claims", claim_list, methods=GET, name="claims"),
    Route("/claims/{claim_id:id}/accept", accept, methods=POST),
    Route("/claims/{claim_id:id}/decline", decline, methods=POST),
    Route("/claims/{claim_id:id}/withdraw", withdraw, methods=POST),
    Route("/streets/{street_id:id}/projects", project_list, methods=GET),
    Route("/streets/{street_id:id}/projects/report", project_report, methods=GET),
    Route("/projects/{project_id:id}", project_detail, methods=GET),
    *[
        Route(f"/projects/{{project_id:id}}/{name}", project_action, methods=POST)
        for name in ACTIONS
    ],
]
