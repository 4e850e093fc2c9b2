"""Roll-up (四级联动): city → district → street → community → unit, every dashboard's
figures aggregated across the streets below, with drill-down links.

Read-only pages; who may see what is `domain.rollup.overview`'s business. The figures
table (`rollup-figures`) re-fetches itself when a street below changes (live topics of
the first streets, up to the socket's limit).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from domain.models.base import utcnow
from domain.models.org import Organization
from domain.rollup import drill, overview
from domain.rollup.figures import Row, StreetTable, street_rows
from domain.tasks.stats import percent
from domain.tasks.stats_scope import Period
from domain.topics import street_topic
from web.deps import require_actor, uow

GET = ["GET"]
# A live socket takes at most 20 topics, one of them the user's own.
MAX_STREET_TOPICS = 19

# (key, heading, group, kind): kind is how a cell is shown (int, pct, hours, ratio).
COLUMNS: list[tuple[str, str, str, str]] = [
    ("assigned", "本期交办", "任务督办", "int"),
    ("closed", "办结", "任务督办", "int"),
    ("on_time_rate", "按时办结率", "任务督办", "pct"),
    ("open", "在办", "任务督办", "int"),
    ("overdue", "逾期", "任务督办", "int"),
    ("sessions", "召开会议", "联席会议", "int"),
    ("attendance_rate", "出席率", "联席会议", "pct"),
    ("needs", "需求", "资源共享", "int"),
    ("resources", "资源", "资源共享", "int"),
    ("projects_done", "完成项目", "资源共享", "int"),
    ("dates_held", "活动场次", "活动共联", "int"),
    ("attendances", "参与人次", "活动共联", "int"),
    ("hours", "服务时长(时)", "活动共联", "hours"),
    ("dual_rate", "单位报到", "双报到", "ratio"),
    ("members", "党员报到", "双报到", "int"),
    ("org_rate", "组织覆盖率", "党建覆盖", "pct"),
    ("work_rate", "工作覆盖率", "党建覆盖", "pct"),
    ("gaps", "空白点", "党建覆盖", "int"),
    ("score", "单位平均得分", "考核评议", "score"),
]
TASK_GROUPS = ("任务督办", "联席会议", "资源共享")
COVERAGE_GROUP = "党建覆盖"
SCORE_GROUP = "考核评议"
SORT_KEYS = {c[0] for c in COLUMNS} | {"name"}


def _columns(*, coverage: bool, scores: bool, street_only: bool = True) -> list[Any]:
    out = []
    for col in COLUMNS:
        group = col[2]
        if group == COVERAGE_GROUP and not coverage:
            continue
        if group == SCORE_GROUP and not scores:
            continue
        if group in TASK_GROUPS and not street_only:
            continue
        out.append(col)
    return out


def _groups(columns: Sequence[tuple[str, str, str, str]]) -> list[tuple[str, int]]:
    groups: list[tuple[str, int]] = []
    for _, _, group, _ in columns:
        if groups and groups[-1][0] == group:
            groups[-1] = (group, groups[-1][1] + 1)
        else:
            groups.append((group, 1))
    return groups


def cell(row: Row, key: str, kind: str) -> str:
    value = getattr(row, key)
    if kind == "pct":
        return percent(value)
    if kind == "ratio":
        return f"{row.units_confirmed}/{row.stationed}" if row.stationed else "—"
    if kind == "hours":
        return f"{value:.1f}"
    if kind == "score":
        return "—" if value is None else f"{value:.1f}"
    return "—" if value is None else str(value)


def _sorted(rows: list[Row], sort: str, desc: bool) -> list[Row]:
    if sort not in SORT_KEYS:
        return rows
    if sort == "name":
        return sorted(rows, key=lambda r: r.name, reverse=desc)
    present = [r for r in rows if getattr(r, sort) is not None]
    missing = [r for r in rows if getattr(r, sort) is None]
    return sorted(present, key=lambda r: getattr(r, sort), reverse=desc) + missing


def _period(request: Request) -> Period:
    return overview.parse_period(
        request.query_params.get("period"), overview.today_in_beijing(utcnow())
    )


def _context(
    request: Request,
    *,
    level: str,
    place: overview.Place,
    period: Period,
    streets: Sequence[Organization],
    base: str,
) -> dict[str, Any]:
    sort = request.query_params.get("sort", "")
    desc = request.query_params.get("dir", "desc") != "asc"

    def sort_link(key: str) -> str:
        direction = "asc" if key == sort and desc else "desc"
        return f"{base}?" + urlencode({"period": period.kind.value, "sort": key, "dir": direction})

    return {
        "level": level,
        "place": place,
        "period": period,
        "periods": overview.PERIODS,
        "base": base,
        "sort": sort if sort in SORT_KEYS else "",
        "desc": desc,
        "sort_link": sort_link,
        "cell": cell,
        "live_topics": [street_topic(s.id) for s in streets[:MAX_STREET_TOPICS]],
        "pct": percent,
        "score_note": False,
        "total": None,
    }


def _render(request: Request, name: str, context: dict[str, Any]) -> Response:
    return request.app.state.templates.render(request, f"rollup/{name}", context)


async def rollup_home(request: Request) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        land = await overview.landing(work, actor)
    if land.redirect:
        return RedirectResponse(land.redirect, status_code=303)
    return _render(request, "home.html", {"land": land})


def _district_rows(
    table: StreetTable, districts: Sequence[Organization], streets: Sequence[Organization]
) -> list[Row]:
    by_street = {r.org_id: r for r in table.rows}
    out = []
    for d in districts:
        row = Row(d.id, d.name)
        parts = [by_street[s.id] for s in streets if s.parent_id == d.id]
        for part in parts:
            row.add(part)
        if not table.has_coverage:
            row.organisations = row.org_covered = row.work_covered = row.gaps = None
        row.links = {"overview": f"/districts/{d.id}/overview"}
        out.append(row)
    return out


async def city_page(request: Request) -> Response:
    actor = require_actor(request)
    period = _period(request)
    async with uow(request, actor) as work:
        place, districts = await overview.city(work, actor, request.path_params["org_id"])
        streets = await overview.streets_of(work, [d.id for d in districts])
        table = await street_rows(work, [(s.id, s.name) for s in streets], period, utcnow())
    base = f"/cities/{place.org.id}/overview"
    ctx = _context(request, level="city", place=place, period=period, streets=streets, base=base)
    rows = _district_rows(table, districts, streets)
    ctx |= {
        "rows": _sorted(rows, ctx["sort"], ctx["desc"]),
        "total": table.total(),
        "columns": _columns(coverage=table.has_coverage, scores=False),
        "row_heading": "区",
        "street_count": len(streets),
        "score_note": True,
    }
    ctx["groups"] = _groups(ctx["columns"])
    return _render(request, "overview.html", ctx)


def _street_links(sid: int) -> dict[str, str]:
    return {
        "overview": f"/streets/{sid}/overview",
        "督办": f"/streets/{sid}/supervision",
        "覆盖": f"/streets/{sid}/coverage",
        "考核": f"/streets/{sid}/scores",
        "活动": f"/activities?street={sid}",
    }


async def district_page(request: Request) -> Response:
    actor = require_actor(request)
    period = _period(request)
    async with uow(request, actor) as work:
        place, streets = await overview.district(work, actor, request.path_params["org_id"])
        table = await street_rows(work, [(s.id, s.name) for s in streets], period, utcnow())
    for row in table.rows:
        row.links = _street_links(row.org_id)
    base = f"/districts/{place.org.id}/overview"
    ctx = _context(
        request, level="district", place=place, period=period, streets=streets, base=base
    )
    ctx |= {
        "rows": _sorted(table.rows, ctx["sort"], ctx["desc"]),
        "total": table.total(),
        "columns": _columns(coverage=table.has_coverage, scores=False),
        "row_heading": "街道",
        "street_count": len(streets),
        "score_note": True,
    }
    ctx["groups"] = _groups(ctx["columns"])
    return _render(request, "overview.html", ctx)


async def street_page(request: Request) -> Response:
    actor = require_actor(request)
    period = _period(request)
    year, quarter = period.last.year, overview.quarter_of(period)
    async with uow(request, actor) as work:
        place, communities = await overview.street(work, actor, request.path_params["org_id"])
        street = place.org
        table = await street_rows(work, [(street.id, street.name)], period, utcnow())
        scores = await drill.unit_scores(work, street.id, year, quarter)
        rows = await drill.community_rows(work, communities, period)
        committees = await drill.committee_units(work, [c.id for c in communities])
    row = table.rows[0]
    row.links = {k: v for k, v in _street_links(street.id).items() if k != "overview"}
    if scores is not None:
        row.score = drill.average(scores)
        for r in rows:
            uid = committees.get(r.org_id)
            line = scores.get(uid) if uid is not None else None
            r.score = None if line is None or line.total is None else round(line.total, 1)
    for r in rows:
        r.links = {
            "overview": f"/communities/{r.org_id}/overview",
            "年度回顾": f"/communities/{r.org_id}/review?year={year}",
        }
    base = f"/streets/{street.id}/overview"
    ctx = _context(request, level="street", place=place, period=period, streets=[street], base=base)
    columns = _columns(coverage=table.has_coverage, scores=scores is not None)
    ctx |= {
        "rows": [row],
        "total": None,
        "columns": columns,
        "groups": _groups(columns),
        "row_heading": "街道",
        "communities": _sorted(rows, ctx["sort"], ctx["desc"]),
        "community_columns": [
            (k, "居委会得分" if k == "score" else h, g, kind)
            for k, h, g, kind in _columns(
                coverage=False, scores=scores is not None, street_only=False
            )
        ],
        "scores_ready": scores is not None,
        "year": year,
        "quarter": quarter,
    }
    ctx["community_groups"] = _groups(ctx["community_columns"])
    return _render(request, "overview.html", ctx)


async def community_page(request: Request) -> Response:
    actor = require_actor(request)
    period = _period(request)
    year, quarter = period.last.year, overview.quarter_of(period)
    async with uow(request, actor) as work:
        place = await overview.community(work, actor, request.path_params["org_id"])
        org = place.org
        assert org.parent_id is not None
        scores = await drill.unit_scores(work, org.parent_id, year, quarter)
        rows = await drill.community_rows(work, [org], period)
        units = await drill.community_units(work, org.id, year, scores)
    row = rows[0]
    if scores is not None:
        row.score = drill.average(scores, [u.unit_id for u in units])
    streets = [p for p in place.parents if p.id == org.parent_id]
    base = f"/communities/{org.id}/overview"
    ctx = _context(
        request, level="community", place=place, period=period, streets=streets, base=base
    )
    columns = _columns(coverage=False, scores=scores is not None, street_only=False)
    score_query = urlencode({"year": year, **({"quarter": quarter} if quarter else {})})
    ctx |= {
        "rows": [row],
        "columns": columns,
        "groups": _groups(columns),
        "units": units,
        "scores_ready": scores is not None,
        "score_query": score_query,
        "year": year,
    }
    return _render(request, "community.html", ctx)


Endpoint = Callable[[Request], Any]

ROUTES: list[BaseRoute] = [
    Route("/rollup", rollup_home, methods=GET, name="rollup"),
    Route("/cities/{org_id:id}/overview", city_page, methods=GET),
    Route("/districts/{org_id:id}/overview", district_page, methods=GET),
    Route("/streets/{org_id:id}/overview", street_page, methods=GET),
    Route("/communities/{org_id:id}/overview", community_page, methods=GET),
]
