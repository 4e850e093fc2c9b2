"""述职评议考核: the landing page, a street's rankings, a unit's card with the records behind
each score, and the .xlsx export. Read-only pages; the weights are on the settings page."""

from __future__ import annotations

from urllib.parse import quote

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from adapters.scores_xlsx import XLSX, build_scores_xlsx
from domain.dual_report.common import this_year
from domain.enums import OrgLevel
from domain.errors import NotFound, PermissionDenied
from domain.evaluation import scoring as sc
from domain.evaluation.score_records import unit_card
from domain.evaluation.scorecard import (
    LIAISON_ROLES,
    STAFF_ROLES,
    can_read_street_scores,
    street_of,
    unit_scores,
)
from domain.evaluation.scoring import ScorePeriod
from domain.models import Organization, Unit
from domain.permissions import Actor, can_view_street
from domain.uow import UnitOfWork
from web.deps import int_param, require_actor, uow

GET = ["GET"]
REFUSED = "考核排名仅向街道书记、督办员、上级查看人员和平台管理员开放。"


def _period(request: Request) -> ScorePeriod:
    """?year=&quarter= — out-of-range values fall back to this year / the whole year."""
    now_year = this_year()
    year = int_param(request.query_params.get("year"), now_year)
    if not 2000 <= year <= now_year + 1:
        year = now_year
    quarter = int_param(request.query_params.get("quarter"), 0)
    return ScorePeriod(year, quarter if 1 <= quarter <= 4 else None)


def _period_ctx(period: ScorePeriod) -> dict[str, object]:
    now_year = this_year()
    return {
        "period": period,
        "years": list(range(now_year, now_year - 5, -1)),
        "quarters": [(1, "第一季度"), (2, "第二季度"), (3, "第三季度"), (4, "第四季度")],
        "query": f"year={period.year}&quarter={period.quarter or ''}",
    }


async def _street_for(work: UnitOfWork, actor: Actor, street_id: int) -> Organization:
    try:
        street = await street_of(work, street_id)
    except NotFound:
        raise NotFound("街道不存在，或不在您可查看的范围内。") from None
    if not can_read_street_scores(actor, street_id):
        if can_view_street(actor, street_id):
            raise PermissionDenied(REFUSED)
        raise NotFound("街道不存在，或不在您可查看的范围内。")
    return street


async def landing(request: Request) -> Response:
    """The actor's street; a liaison's own card; or a chooser for viewers and admins."""
    actor = require_actor(request)
    own = sorted(actor.streets_with(*STAFF_ROLES))
    if len(own) == 1 and not actor.district_street_ids and not actor.is_admin:
        return RedirectResponse(f"/streets/{own[0]}/scores", status_code=303)
    async with uow(request, actor) as work:
        stmt = select(Organization).where(Organization.level == OrgLevel.STREET.value)
        if not actor.is_admin:
            stmt = stmt.where(Organization.id.in_(sorted(set(own) | actor.district_street_ids)))
        streets = list(await work.session.scalars(stmt.order_by(Organization.id)))
        parents = {
            o.id: o.name
            for o in await work.session.scalars(
                select(Organization).where(
                    Organization.id.in_({s.parent_id for s in streets if s.parent_id})
                )
            )
        }
        unit_ids = sorted(actor.unit_ids_with(*LIAISON_ROLES))
        units = list(
            await work.session.scalars(
                select(Unit).where(Unit.id.in_(unit_ids)).order_by(Unit.name)
            )
        )
    if not streets and len(units) == 1:
        return RedirectResponse(f"/units/{units[0].id}/score", status_code=303)
    return request.app.state.templates.render(
        request,
        "scores/landing.html",
        {"streets": streets, "parents": parents, "units": units},
    )


async def street_scores(request: Request) -> Response:
    actor = require_actor(request)
    street_id: int = request.path_params["street_id"]
    period = _period(request)
    async with uow(request, actor) as work:
        street = await _street_for(work, actor, street_id)
        scores = await unit_scores(work, street_id, period.year, period.quarter)
    members = [s for s in scores if not s.is_department]
    departments = [s for s in scores if s.is_department]
    return request.app.state.templates.render(
        request,
        "scores/street.html",
        {
            "street": street,
            "members": members,
            "departments": departments,
            "member_metrics": sc.MEMBER_METRICS,
            "department_metrics": sc.DEPARTMENT_METRICS,
            "labels": sc.METRIC_LABELS,
            "can_edit": street_id in actor.streets_with(*STAFF_ROLES) or actor.is_admin,
            **_period_ctx(period),
        },
    )


async def street_xlsx(request: Request) -> Response:
    actor = require_actor(request)
    street_id: int = request.path_params["street_id"]
    period = _period(request)
    async with uow(request, actor) as work:
        street = await _street_for(work, actor, street_id)
        scores = await unit_scores(work, street_id, period.year, period.quarter)
    data = await run_in_threadpool(build_scores_xlsx, street.name, period.label, scores)
    name = f"述职评议考核-{street.name}-{period.label}.xlsx"
    return Response(
        data,
        media_type=XLSX,
        headers={
            "Content-Disposition": f'attachment; filename="scores-{street_id}.xlsx"; '
            f"filename*=UTF-8''{quote(name)}"
        },
    )


async def unit_score(request: Request) -> Response:
    actor = require_actor(request)
    period = _period(request)
    async with uow(request, actor) as work:
        card = await unit_card(
            work, actor, request.path_params["unit_id"], period.year, period.quarter
        )
        street = await street_of(work, card.unit.street_id)
    return request.app.state.templates.render(
        request,
        "scores/unit.html",
        {
            "card": card,
            "street": street,
            "can_rank": can_read_street_scores(actor, street.id),
            **_period_ctx(period),
        },
    )


ROUTES: list[BaseRoute] = [
    Route("/scores", landing, methods=GET),
    Route("/streets/{street_id:id}/scores", street_scores, methods=GET),
    Route("/streets/{street_id:id}/scores.xlsx", street_xlsx, methods=GET),
    Route("/units/{unit_id:id}/score", unit_score, methods=GET),
]
