"""The joint activity calendar and planning: calendar views, the activity page, the form
(new / edit, with a live preview of the dates), announce, cancel and single-date changes."""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from domain.activities import plan_dates, plan_edit, planning
from domain.activities.calendar_view import KIND_CHOICES, Filters, calendar
from domain.activities.forms import form_values, parse_activity_form
from domain.activities.plan_read import activity_page, form_choices
from domain.activities.recurrence import (
    LONG_NAMES,
    NTH_NAMES,
    SHORT_NAMES,
    RecurrenceError,
    date_words,
    describe,
    expand,
    local_date,
)
from domain.enums import ActivityKind, SignupRule
from domain.errors import Conflict, DomainError, NotFound, ValidationFailed
from domain.models.base import utcnow
from domain.topics import street_topic
from web.deps import form_dict, int_param, require_actor, uow
from web.htmx import htmx

GET, POST = ["GET"], ["POST"]
PREVIEW_DATES = 6
DONE_MESSAGES = {
    "created": "活动已保存（筹备中）。确认无误后请点击“发布活动”。",
    "saved": "修改已保存。",
    "announced": "活动已发布，相关单位和党员已收到通知。",
    "cancelled": "活动已取消，已报名的人已收到通知。",
    "date_cancelled": "该日期已取消，已报名的人已收到通知。",
    "date_moved": "该日期已调整，已报名的人已收到通知。",
}
MULTI_FIELDS = ("co_unit_ids", "repeat_weekdays")


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text or "")
    except ValueError:
        return None


async def _form(request: Request) -> tuple[dict[str, str], dict[str, Any]]:
    """(service input with multi-valued fields comma-joined, values to re-render)."""
    form = await request.form()
    data = await form_dict(request)
    values: dict[str, Any] = dict(data)
    for name in MULTI_FIELDS:
        chosen = [v for v in form.getlist(name) if isinstance(v, str)]
        data[name] = ",".join(chosen)
        values[name] = chosen
    return data, values


# --- calendar ----------------------------------------------------------------------------


async def calendar_page(request: Request) -> Response:
    actor = require_actor(request)
    q = request.query_params
    filters = Filters(
        unit=int_param(q.get("unit")),
        kind=q.get("kind", "") if q.get("kind", "") in dict(KIND_CHOICES) else "",
        community=int_param(q.get("community")),
    )
    async with uow(request, actor) as work:
        page = await calendar(
            work,
            actor,
            street_id=int_param(q.get("street")) or None,
            view=q.get("view", "month"),
            anchor=_date(q.get("date")),
            filters=filters,
        )
    details = htmx(request)
    fragment = details.wants_fragment and details.target == "activity-calendar"
    return request.app.state.templates.render(
        request,
        "activities/_plan_calendar.html" if fragment else "activities/calendar.html",
        {
            "c": page,
            "kinds": KIND_CHOICES,
            "live_topics": [street_topic(page.street.id)],
        },
    )


# --- the form ----------------------------------------------------------------------------


def _defaults(today: date) -> dict[str, Any]:
    return {
        "kind": ActivityKind.JOINT.value,
        "date": today.isoformat(),
        "start_time": "15:00",
        "end_time": "17:00",
        "capacity": "0",
        "signup_rule": SignupRule.OPEN.value,
        "waitlist": "1",
        "repeat": "none",
        "repeat_interval": "1",
        "repeat_weekdays": [],
        "repeat_nth": "1",
        "repeat_weekday": "4",
        "repeat_monthday": "1",
        "co_unit_ids": [],
    }


async def render_form(
    request: Request,
    street_id: int,
    *,
    activity_id: int = 0,
    values: dict[str, Any] | None = None,
    error: DomainError | None = None,
) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        choices = await form_choices(work, actor, street_id)
    form = _defaults(local_date(utcnow()))
    form.update(values or {})
    warnings = getattr(error, "warnings", []) if error else []
    return request.app.state.templates.render(
        request,
        "activities/form.html",
        {
            "ch": choices,
            "form": form,
            "activity_id": activity_id,
            "errors": getattr(error, "fields", {}) if error else {},
            "message": error.message if error else None,
            "warnings": warnings,
            "kinds": [(k.value, k) for k in ActivityKind],
            "rules": [(r.value, r) for r in SignupRule],
            "weekdays": list(enumerate(SHORT_NAMES)),
            "long_weekdays": list(enumerate(LONG_NAMES)),
            "nths": list(NTH_NAMES.items()),
            "preview": _preview(form),
        },
        status_code=error.status if error else 200,
    )


async def new_form(request: Request) -> Response:
    actor = require_actor(request)
    street_id = int_param(request.query_params.get("street"))
    if not street_id:
        streets = sorted(actor.visible_street_ids)
        street_id = streets[0] if streets else 0
    return await render_form(request, street_id)


async def create(request: Request) -> Response:
    actor = require_actor(request)
    street_id = int_param(request.query_params.get("street"))
    data, values = await _form(request)
    street_id = int_param(data.get("street")) or street_id
    try:
        async with uow(request, actor) as work:
            activity = await planning.create_activity(work, actor, street_id, data)
            await work.commit()
    except (ValidationFailed, Conflict) as exc:
        return await render_form(request, street_id, values=values, error=exc)
    return RedirectResponse(f"/activities/{activity.id}?done=created", status_code=303)


async def edit_form(request: Request) -> Response:
    actor = require_actor(request)
    activity_id = request.path_params["activity_id"]
    async with uow(request, actor) as work:
        page = await activity_page(work, actor, activity_id)
    page.access.require_organiser()
    values = form_values(page.activity, [u.id for u in page.hosts])
    return await render_form(
        request, page.activity.street_id, activity_id=activity_id, values=values
    )


async def update(request: Request) -> Response:
    actor = require_actor(request)
    activity_id = request.path_params["activity_id"]
    data, values = await _form(request)
    try:
        async with uow(request, actor) as work:
            activity = await plan_edit.edit_activity(work, actor, activity_id, data)
            await work.commit()
    except (ValidationFailed, Conflict) as exc:
        async with uow(request, actor) as work:
            street_id = (await planning.load_activity(work, activity_id)).street_id
        return await render_form(
            request, street_id, activity_id=activity_id, values=values, error=exc
        )
    return RedirectResponse(f"/activities/{activity.id}?done=saved", status_code=303)


def _preview(raw: dict[str, Any]) -> dict[str, Any]:
    """How many dates the form gives and the first few, in words (or why it gives none)."""
    flat = {k: ",".join(v) if isinstance(v, list) else str(v) for k, v in raw.items()}
    try:
        data = parse_activity_form({**flat, "title": "预览", "venue": "预览", "lead_unit_id": "1"})
        dates = expand(data.recurrence, data.starts_at, data.ends_at, data.recurrence_until)
    except ValidationFailed as exc:
        return {"error": next(iter(exc.fields.values()), exc.message), "count": 0, "dates": []}
    except RecurrenceError as exc:
        return {"error": str(exc), "count": 0, "dates": []}
    return {
        "error": "",
        "rule": describe(data.recurrence),
        "count": len(dates),
        "dates": [date_words(s, e) for s, e in dates[:PREVIEW_DATES]],
    }


async def preview(request: Request) -> Response:
    require_actor(request)
    data, _values = await _form(request)
    return request.app.state.templates.render(
        request, "activities/_plan_preview.html", {"preview": _preview(dict(data))}
    )


# --- the activity page and its actions ---------------------------------------------------


async def render_activity(
    request: Request,
    activity_id: int,
    *,
    error: DomainError | None = None,
    form_name: str = "",
    values: dict[str, str] | None = None,
) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        page = await activity_page(work, actor, activity_id)
    return request.app.state.templates.render(
        request,
        "activities/activity.html",
        {
            "p": page,
            "a": page.activity,
            "flash": DONE_MESSAGES.get(request.query_params.get("done", "")),
            "errors": getattr(error, "fields", {}) if error else {},
            "message": error.message if error else None,
            "form_name": form_name,
            "form": values or {},
            "warnings": getattr(error, "warnings", []) if error else [],
            "live_topics": [street_topic(page.activity.street_id)],
        },
        status_code=error.status if error else 200,
    )


async def show(request: Request) -> Response:
    return await render_activity(request, request.path_params["activity_id"])


async def announce(request: Request) -> Response:
    actor = require_actor(request)
    activity_id = request.path_params["activity_id"]
    data = await form_dict(request)
    try:
        async with uow(request, actor) as work:
            await planning.announce(work, actor, activity_id, planning.version_of(data))
            await work.commit()
    except (ValidationFailed, Conflict) as exc:
        return await render_activity(request, activity_id, error=exc)
    return RedirectResponse(f"/activities/{activity_id}?done=announced", status_code=303)


async def cancel(request: Request) -> Response:
    actor = require_actor(request)
    activity_id = request.path_params["activity_id"]
    data = await form_dict(request)
    try:
        async with uow(request, actor) as work:
            await plan_dates.cancel_activity(
                work, actor, activity_id, planning.version_of(data), data.get("reason", "")
            )
            await work.commit()
    except (ValidationFailed, Conflict) as exc:
        return await render_activity(
            request, activity_id, error=exc, form_name="cancel", values=data
        )
    return RedirectResponse(f"/activities/{activity_id}?done=cancelled", status_code=303)


async def date_action(request: Request) -> Response:
    actor = require_actor(request)
    activity_id = request.path_params["activity_id"]
    occurrence_id = request.path_params["occurrence_id"]
    action = request.path_params["action"]
    if action not in ("cancel", "move"):
        raise NotFound()
    data = await form_dict(request)
    version = planning.version_of(data)
    try:
        async with uow(request, actor) as work:
            occ = await planning.load_occurrence(work, occurrence_id, activity_id)
            if action == "cancel":
                await plan_dates.cancel_date(work, actor, occ.id, version, data.get("reason", ""))
            else:
                await plan_dates.move_date(work, actor, occ.id, version, data)
            await work.commit()
    except (ValidationFailed, Conflict) as exc:
        return await render_activity(
            request, activity_id, error=exc, form_name=f"{action}-{occurrence_id}", values=data
        )
    done = "date_cancelled" if action == "cancel" else "date_moved"
    return RedirectResponse(
        f"/activities/{activity_id}?done={done}#date-{occurrence_id}", status_code=303
    )


ROUTES: list[BaseRoute] = [
    Route("/activities", calendar_page, methods=GET, name="activities"),
    Route("/activities/new", new_form, methods=GET),
    Route("/activities/new", create, methods=POST),
    Route("/activities/preview", preview, methods=POST),
    Route("/activities/{activity_id:id}", show, methods=GET, name="activity"),
    Route("/activities/{activity_id:id}/edit", edit_form, methods=GET),
    Route("/activities/{activity_id:id}/edit", update, methods=POST),
    Route("/activities/{activity_id:id}/announce", announce, methods=POST),
    Route("/activities/{activity_id:id}/cancel", cancel, methods=POST),
    Route(
        "/activities/{activity_id:id}/dates/{occurrence_id:id}/{action:str}",
        date_action,
        methods=POST,
    ),
]
