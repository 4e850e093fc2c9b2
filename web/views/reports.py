"""述职报告 pages: the landing (own reports and those in scope), one report (edit,
regenerate, choose, submit), its print page and its .docx export."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from domain.errors import Conflict, DomainError, NotFound, ValidationFailed
from domain.evaluation import report as svc
from domain.models.base import utcnow
from domain.tasks.calendar import local_date
from domain.topics import street_topic
from web.deps import form_dict, int_param, require_actor, uow

GET, POST = ["GET"], ["POST"]
DONE = {
    "create": "已根据平台记录生成述职报告草稿。",
    "save": "已保存。",
    "regenerate": "已按最新记录重新生成。",
    "choose": "已更新该部分。",
    "submit": "述职报告已提交，上级党组织已收到通知。",
}
OFFERED = "以下部分您已修改过，新生成的文本列在旁边，请选择采用哪一个："


def _this_year() -> int:
    return local_date(utcnow()).year


async def landing(request: Request) -> Response:
    actor = require_actor(request)
    year = int_param(request.query_params.get("year"), _this_year())
    async with uow(request, actor) as work:
        data = await svc.landing(work, actor, year)
    streets = sorted(
        {r.org.id if r.org.level == "street" else r.org.parent_id or 0 for r in data.rows}
    )
    return request.app.state.templates.render(
        request,
        "reports/index.html",
        {
            "data": data,
            "years": list(range(_this_year(), _this_year() - 4, -1)),
            "live_topics": [street_topic(s) for s in streets if s][:19],
        },
    )


async def render_report(
    request: Request,
    org_id: int,
    year: int,
    *,
    form: dict[str, str] | None = None,
    error: DomainError | None = None,
    offered: list[str] | None = None,
) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        page = await svc.open_report(work, actor, org_id, year)
    done = request.query_params.get("done", "")
    return request.app.state.templates.render(
        request,
        "reports/report.html",
        {
            "page": page,
            "r": page.report,
            "form": form or {},
            "errors": getattr(error, "fields", {}) if error else {},
            "message": error.message if error else None,
            "flash": DONE.get(done),
            "offered": OFFERED if done == "regenerate" and _has_offers(page) else None,
            "live_topics": [street_topic(page.access.street_id)],
        },
        status_code=error.status if error else 200,
    )


def _has_offers(page: svc.ReportPage) -> bool:
    return bool(page.report and any("proposed" in s for s in page.report.sections))


async def report_page(request: Request) -> Response:
    return await render_report(request, request.path_params["org_id"], request.path_params["year"])


def _back(org_id: int, year: int, done: str) -> RedirectResponse:
    return RedirectResponse(f"/reports/{org_id}/{year}?done={done}", status_code=303)


async def _act(request: Request, action: str) -> Response:
    actor = require_actor(request)
    org_id, year = request.path_params["org_id"], request.path_params["year"]
    data = await form_dict(request)
    try:
        async with uow(request, actor) as work:
            if action == "create":
                await svc.create(work, actor, org_id, year)
            elif action == "save":
                await svc.save(work, actor, org_id, year, data)
            elif action == "regenerate":
                await svc.regenerate(work, actor, org_id, year, data.get("version"))
            elif action == "choose":
                await svc.choose(work, actor, org_id, year, data)
            else:
                await svc.submit(work, actor, org_id, year, data.get("version"))
            await work.commit()
    except (ValidationFailed, Conflict) as exc:
        # The author's text is kept: the page re-renders with what they sent.
        return await render_report(request, org_id, year, form=data, error=exc)
    return _back(org_id, year, action)


async def create_report(request: Request) -> Response:
    return await _act(request, "create")


async def save_report(request: Request) -> Response:
    return await _act(request, "save")


async def regenerate_report(request: Request) -> Response:
    return await _act(request, "regenerate")


async def choose_text(request: Request) -> Response:
    return await _act(request, "choose")


async def submit_report(request: Request) -> Response:
    return await _act(request, "submit")


async def _loaded(request: Request) -> svc.ReportPage:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        page = await svc.open_report(
            work, actor, request.path_params["org_id"], request.path_params["year"]
        )
    if page.report is None:
        raise NotFound("述职报告尚未起草。")
    return page


async def print_page(request: Request) -> Response:
    page = await _loaded(request)
    return request.app.state.templates.render(
        request, "reports/print.html", {"page": page, "r": page.report}
    )


async def docx_export(request: Request) -> Response:
    from adapters.report_docx import report_docx

    page = await _loaded(request)
    assert page.report is not None
    data = report_docx(page.access.org.name, page.report, page.author_name)
    name = quote(f"{page.report.title}.docx")
    return Response(
        data,
        media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )


_BASE = "/reports/{org_id:id}/{year:id}"
ROUTES: list[BaseRoute] = [
    Route("/reports", landing, methods=GET),
    Route(_BASE + ".docx", docx_export, methods=GET),
    Route(_BASE, report_page, methods=GET),
    Route(_BASE + "/print", print_page, methods=GET),
    Route(_BASE + "/create", create_report, methods=POST),
    Route(_BASE + "/save", save_report, methods=POST),
    Route(_BASE + "/regenerate", regenerate_report, methods=POST),
    Route(_BASE + "/choose", choose_text, methods=POST),
    Route(_BASE + "/submit", submit_report, methods=POST),
]
