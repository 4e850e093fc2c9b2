"""Admin: the audit log, filterable by actor, object and date."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from domain.services.audit_log import AuditFilter, object_types, search_audit
from domain.topics import ADMIN_TOPIC
from web.deps import int_param, require_actor, uow
from web.htmx import htmx

PAGE = 50


def _date(value: str | None) -> date | None:
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        return None
    # The first and last days of the calendar have no Beijing midnight in UTC / no next day.
    return day if day is not None and date.min < day < date.max else None


async def audit_list(request: Request) -> Response:
    actor = require_actor(request)
    q = request.query_params
    flt = AuditFilter(
        actor=q.get("actor", "")[:50],
        object_type=q.get("object_type", "")[:40],
        object_id=q.get("object_id", "")[:40],
        action=q.get("action", "")[:60],
        date_from=_date(q.get("date_from")),
        date_to=_date(q.get("date_to")),
    )
    bad_dates = {
        k: "日期格式应为 YYYY-MM-DD。"
        for k in ("date_from", "date_to")
        if q.get(k) and not _date(q.get(k))
    }
    page = max(1, int_param(q.get("page"), 1))
    async with uow(request, actor) as work:
        entries, total = await search_audit(work, actor, flt, limit=PAGE, offset=(page - 1) * PAGE)
        types = await object_types(work)
    context = {
        "entries": entries,
        "total": total,
        "flt": flt,
        "raw": dict(q),
        "types": types,
        "page": page,
        "pages": max(1, -(-total // PAGE)),
        "errors": bad_dates,
        "live_topics": [ADMIN_TOPIC],
        "base": "/admin/audit?" + urlencode({k: v for k, v in q.items() if k != "page"}) + "&",
    }
    name = "admin/_audit_table.html" if htmx(request).wants_fragment else "admin/audit.html"
    return request.app.state.templates.render(request, name, context)
