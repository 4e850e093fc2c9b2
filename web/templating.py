"""Jinja environment with autoescape on, the label map and request-bound helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from domain import permissions
from domain.enums import OrgLevel, Role, UnitKind, UnitType
from domain.labels import label
from gongjian.config import PROJECT_ROOT

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(CHINA).strftime(fmt)


def deadline_time(value: datetime | None) -> str:
    """A deadline at midnight is the end of the day before: show it as that day's 24:00."""
    if value is None:
        return ""
    local = value.astimezone(CHINA)
    if (local.hour, local.minute, local.second) == (0, 0, 0):
        return (local - timedelta(days=1)).strftime("%Y-%m-%d") + " 24:00"
    return local.strftime("%Y-%m-%d %H:%M")


def make_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(PROJECT_ROOT / "templates"),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.globals.update(
        label=label,
        perm=permissions,
        OrgLevel=OrgLevel,
        Role=Role,
        UnitKind=UnitKind,
        UnitType=UnitType,
    )
    env.filters["local_time"] = local_time
    env.filters["deadline"] = deadline_time
    env.filters["label"] = label
    return env


class Templates:
    def __init__(self) -> None:
        self.env = make_environment()

    def render(
        self,
        request: Request,
        name: str,
        context: dict[str, Any] | None = None,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> HTMLResponse:
        ctx = self.context(request)
        ctx.update(context or {})
        html = self.env.get_template(name).render(ctx)
        return HTMLResponse(html, status_code=status_code, headers=headers)

    def context(self, request: Request) -> dict[str, Any]:
        state = request.scope.get("state", {})
        token = state.get("csrf_token", "")
        live = getattr(request.app.state, "live", None)
        return {
            "request": request,
            "actor": state.get("actor"),
            "csrf_token": token,
            "csrf_input": Markup('<input type="hidden" name="csrf_token" value="{}">').format(
                escape(token)
            ),
            "errors": {},
            "form": {},
            "message": None,
            "unread": state.get("unread", 0),
            # The cursor is read before the page's data, so a change committed in
            # between is replayed rather than missed.
            "live_seq": live.hub.last_seq if live is not None else 0,
            "live_topics": [],
            "presence": None,
        }
