"""Supervision dashboards (督办统计): a street's, a district's roll-up across its streets,
the monthly ranking (红黑榜) and the bulletin list (通报).

Read-only pages; who may see them is the service's business (`domain.tasks.stats`).
Live regions (`supervision-figures`, `supervision-board`, `supervision-overdue`) re-fetch
themselves when a task of the street changes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from domain.enums import OrgLevel, TaskSource, TaskState, UnitKind
from domain.errors import PermissionDenied
from domain.models.base import utcnow
from domain.tasks import stats
from domain.tasks.stats import Period, PeriodKind, Scope, StatsFilter
from domain.topics import street_topic
from domain.uow import UnitOfWork
from web.deps import require_actor, uow

GET = ["GET"]
# A live socket takes at most 20 topics, one of them the user's own.
MAX_STREET_TOPICS = 19
# Order and colours of the state bar (a task's life from left to right).
STATE_COLOURS = {
    TaskState.ASSIGNED.value: "#1565c0",
    TaskState.ACCEPTED.value: "#42a5f5",
    TaskState.RETURN_REQUESTED.value: "#8e24aa",
    TaskState.IN_PROGRESS.value: "#e0a100",
    TaskState.EXTENSION_REQUESTED.value: "#ef6c00",
    TaskState.REPORTED.value: "#00897b",
    TaskState.REVIEWED.value: "#43a047",
    TaskState.RATED.value: "#2e7d32",
    TaskState.CLOSED.value: "#1b5e20",
    TaskState.ARCHIVED.value: "#90a4ae",
}
UNIT_KINDS = (UnitKind.DEPARTMENT, UnitKind.COMMUNITY, UnitKind.STATIONED)


def _topics(scope: Scope) -> list[str]:
    return [street_topic(s) for s in scope.street_ids[:MAX_STREET_TOPICS]]


def _query(flt: StatsFilter, **extra: str) -> str:
    """The filter as a query string, for links between the pages."""
    params: dict[str, str] = {"period": flt.period.kind.value}
    if flt.period.kind is PeriodKind.CUSTOM:
        params["from"] = flt.period.first.isoformat()
        params["to"] = flt.period.last.isoformat()
    if flt.source is not None:
        params["source"] = flt.source.value
    if flt.unit_id is not None:
        params["unit"] = str(flt.unit_id)
    params.update(extra)
    return urlencode(params)


def _base_context(scope: Scope, base: str) -> dict[str, Any]:
    return {
        "scope": scope,
        "base": base,
        "pct": stats.percent,
        "live_topics": _topics(scope),
    }


async def _dashboard(
    request: Request, work: UnitOfWork, scope: Scope, base: str, kinds: tuple[UnitKind, ...]
) -> Response:
    now = utcnow()
    raw = {k: v for k, v in request.query_params.items() if isinstance(v, str)}
    choices = await stats.unit_choices(work, scope, kinds)
    flt, errors = stats.parse_filter(raw, stats.today_of(now), (c[0] for c in choices))
    figures = await stats.figures(work, scope, flt, now)
    context = _base_context(scope, base) | {
        "fig": figures,
        "flt": flt,
        "query": _query(flt),
        "form": raw,
        "errors": errors,
        "message": "筛选条件有误，已按默认条件统计。请按提示修改。" if errors else None,
        "choices": choices,
        "periods": stats.PERIOD_LABELS,
        "sources": list(TaskSource),
        "state_colours": STATE_COLOURS,
        "board_levels": stats.BOARD_LEVELS,
    }
    return request.app.state.templates.render(
        request, "supervision/dashboard.html", context, status_code=400 if errors else 200
    )


async def supervision_home(request: Request) -> Response:
    """The nav's entry: a district viewer's district, a secretary's street, or a choice."""
    actor = require_actor(request)
    async with uow(request, actor) as work:
        orgs = await stats.supervisable(work, actor)
    districts = [o for o in orgs if o.level == OrgLevel.DISTRICT]
    streets = [o for o in orgs if o.level == OrgLevel.STREET]
    if not orgs:
        raise PermissionDenied(stats.REFUSED_MESSAGE)
    if not actor.is_admin:
        if len(districts) == 1:
            return RedirectResponse(f"/districts/{districts[0].id}/supervision", status_code=303)
        if not districts and len(streets) == 1:
            return RedirectResponse(f"/streets/{streets[0].id}/supervision", status_code=303)
    return request.app.state.templates.render(
        request, "supervision/home.html", {"districts": districts, "streets": streets}
    )


def _month(text: str | None, today: date) -> tuple[date, str | None]:
    if not text:
        return today.replace(day=1), None
    try:
        year, month = (int(p) for p in text.strip().split("-"))
        return date(year, month, 1), None
    except ValueError:
        return today.replace(day=1), "请选择月份（如 2026-11）。"


async def _ranking(request: Request, work: UnitOfWork, scope: Scope, base: str) -> Response:
    now = utcnow()
    today = stats.today_of(now)
    month, error = _month(request.query_params.get("month"), today)
    ranking = await stats.monthly_ranking(work, scope, month, now)
    prev = (month.replace(day=1) - timedelta(days=1)).replace(day=1)
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    context = _base_context(scope, base) | {
        "ranking": ranking,
        "month": month,
        "prev": prev,
        "next": following if following <= today else None,
        "form": {"month": request.query_params.get("month", month.strftime("%Y-%m"))},
        "errors": {"month": error} if error else {},
        "message": error,
        "weights": stats.WEIGHTS,
        "min_tasks": stats.RANKING_MIN_TASKS,
    }
    return request.app.state.templates.render(
        request, "supervision/ranking.html", context, status_code=400 if error else 200
    )


async def _bulletins(request: Request, work: UnitOfWork, scope: Scope, base: str) -> Response:
    now = utcnow()
    raw = {k: v for k, v in request.query_params.items() if isinstance(v, str)}
    # Only the period applies here; the other filters are for the dashboard.
    raw = {k: v for k, v in raw.items() if k in ("period", "from", "to")}
    flt, errors = stats.parse_filter(raw, stats.today_of(now), ())
    period: Period = flt.period
    rows = await stats.bulletins(work, scope, period)
    context = _base_context(scope, base) | {
        "rows": rows,
        "flt": flt,
        "period": period,
        "form": raw,
        "errors": errors,
        "message": "筛选条件有误，已按本月统计。请按提示修改。" if errors else None,
        "periods": stats.PERIOD_LABELS,
    }
    return request.app.state.templates.render(
        request, "supervision/bulletins.html", context, status_code=400 if errors else 200
    )


Page = Callable[[Request, UnitOfWork, Scope, str], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def for_street(page: Page) -> Endpoint:
    """The page for one street (its staff, the district above it, admins)."""

    async def endpoint(request: Request) -> Response:
        actor = require_actor(request)
        street_id = request.path_params["street_id"]
        async with uow(request, actor) as work:
            scope = await stats.street_scope(work, actor, street_id)
            return await page(request, work, scope, f"/streets/{street_id}/supervision")

    return endpoint


def for_district(page: Page) -> Endpoint:
    """The same page rolled up across a district's streets."""

    async def endpoint(request: Request) -> Response:
        actor = require_actor(request)
        org_id = request.path_params["org_id"]
        async with uow(request, actor) as work:
            scope = await stats.district_scope(work, actor, org_id)
            return await page(request, work, scope, f"/districts/{org_id}/supervision")

    return endpoint


async def _street_dashboard(
    request: Request, work: UnitOfWork, scope: Scope, base: str
) -> Response:
    return await _dashboard(request, work, scope, base, UNIT_KINDS)


async def _district_dashboard(
    request: Request, work: UnitOfWork, scope: Scope, base: str
) -> Response:
    # Across a district the filter offers its departments (条), not every unit.
    return await _dashboard(request, work, scope, base, (UnitKind.DEPARTMENT,))


ROUTES: list[BaseRoute] = [
    Route("/supervision", supervision_home, methods=GET, name="supervision"),
    Route("/streets/{street_id:id}/supervision", for_street(_street_dashboard), methods=GET),
    Route("/streets/{street_id:id}/supervision/ranking", for_street(_ranking), methods=GET),
    Route("/streets/{street_id:id}/supervision/bulletins", for_street(_bulletins), methods=GET),
    Route("/districts/{org_id:id}/supervision", for_district(_district_dashboard), methods=GET),
    Route("/districts/{org_id:id}/supervision/ranking", for_district(_ranking), methods=GET),
    Route("/districts/{org_id:id}/supervision/bulletins", for_district(_bulletins), methods=GET),
]
