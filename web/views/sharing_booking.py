"""Booking venues and equipment: a resource's week schedule, publishing slots, requesting a
slot, and the owner's approve / decline; the requester's cancel; "my bookings"."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from domain.enums import BookingState
from domain.errors import Conflict, DomainError, NotFound, ValidationFailed
from domain.labels import label
from domain.models.base import utcnow
from domain.models.sharing import ResourceSlot
from domain.sharing import booking as svc
from domain.topics import unit_topic
from web.deps import form_dict, int_param, require_actor, uow

GET, POST = ["GET"], ["POST"]
DONE_MESSAGES = {
    "slots": "时段已发布。",
    "book": "预约申请已提交，等待资源提供单位审批。",
    "approve": "已批准预约。",
    "decline": "已谢绝预约。",
    "cancel": "预约已取消，该时段已释放。",
}
WEEKDAYS = list(enumerate(svc.WEEKDAY_NAMES))
STATE_LABELS = {s.value: label(s) for s in BookingState}


def _week(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text or "")
    except ValueError:
        return None


def _slot_form_defaults(week: date) -> dict[str, Any]:
    return {
        "date_from": week.isoformat(),
        "date_to": (week + timedelta(days=27)).isoformat(),
        "weekdays": ["0", "1", "2", "3", "4"],
        "start_time": "09:00",
        "end_time": "17:00",
        "slot_minutes": "120",
    }


async def render_schedule(
    request: Request,
    resource_id: int,
    week: date | None,
    *,
    form: dict[str, Any] | None = None,
    form_name: str = "",
    slot_id: int = 0,
    error: DomainError | None = None,
) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        schedule = await svc.resource_schedule(work, actor, resource_id, week)
    slot_form = _slot_form_defaults(schedule.week_start)
    if form_name == "slots" and form is not None:
        slot_form.update(form)
    return request.app.state.templates.render(
        request,
        "sharing/booking_schedule.html",
        {
            "s": schedule,
            "slot_form": slot_form,
            "book_form": form if form_name == "book" and form is not None else {},
            "form_name": form_name,
            "error_slot": slot_id,
            "open_slot": int_param(request.query_params.get("slot")),
            "errors": getattr(error, "fields", {}) if error else {},
            "message": error.message if error else None,
            "weekdays": WEEKDAYS,
            "today": svc.beijing(utcnow()).date(),
            "state_labels": STATE_LABELS,
            "flash": DONE_MESSAGES.get(request.query_params.get("done", "")),
            "live_topics": [unit_topic(schedule.resource.unit_id)],
        },
        status_code=error.status if error else 200,
    )


async def schedule_page(request: Request) -> Response:
    return await render_schedule(
        request, request.path_params["resource_id"], _week(request.query_params.get("week"))
    )


async def publish_slots(request: Request) -> Response:
    actor = require_actor(request)
    resource_id = request.path_params["resource_id"]
    form = await request.form()
    data = await form_dict(request)
    weekdays = [v for v in form.getlist("weekdays") if isinstance(v, str)]
    raw = {**data, "weekdays": ",".join(weekdays)}
    week = _week(data.get("week"))
    try:
        async with uow(request, actor) as work:
            await svc.publish_slots(work, actor, resource_id, raw)
            await work.commit()
    except (ValidationFailed, Conflict) as exc:
        values: dict[str, Any] = {**data, "weekdays": weekdays}
        return await render_schedule(
            request, resource_id, week, form=values, form_name="slots", error=exc
        )
    first = _week(data.get("date_from")) or week
    target = f"?week={svc.monday_of(first).isoformat()}&done=slots" if first else "?done=slots"
    return RedirectResponse(f"/resources/{resource_id}/schedule{target}", status_code=303)


async def _slot_place(request: Request, slot_id: int) -> tuple[int, date]:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        slot = await work.session.get(ResourceSlot, slot_id)
    if slot is None:
        raise NotFound("时段不存在。")
    return slot.resource_id, svc.monday_of(svc.beijing(slot.starts_at).date())


async def book_slot(request: Request) -> Response:
    actor = require_actor(request)
    slot_id = request.path_params["slot_id"]
    data = await form_dict(request)
    resource_id, week = await _slot_place(request, slot_id)
    try:
        async with uow(request, actor) as work:
            await svc.request_booking(work, actor, slot_id, data)
            await work.commit()
    except (ValidationFailed, Conflict) as exc:
        return await render_schedule(
            request, resource_id, week, form=data, form_name="book", slot_id=slot_id, error=exc
        )
    return RedirectResponse(
        f"/resources/{resource_id}/schedule?week={week.isoformat()}&done=book", status_code=303
    )


async def render_bookings(
    request: Request,
    *,
    form: dict[str, str] | None = None,
    booking_id: int = 0,
    error: DomainError | None = None,
) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        mine = await svc.my_bookings(work, actor)
        units = await svc.acting_unit_ids(work, actor)
    return request.app.state.templates.render(
        request,
        "sharing/booking_list.html",
        {
            "b": mine,
            "form": form or {},
            "error_booking": booking_id,
            "errors": getattr(error, "fields", {}) if error else {},
            "message": error.message if error else None,
            "state_labels": STATE_LABELS,
            "flash": DONE_MESSAGES.get(request.query_params.get("done", "")),
            "live_topics": [unit_topic(u) for u in sorted(units)][:19],
        },
        status_code=error.status if error else 200,
    )


async def bookings_page(request: Request) -> Response:
    return await render_bookings(request)


def _decision(name: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        actor = require_actor(request)
        booking_id = request.path_params["booking_id"]
        data = await form_dict(request)
        version = int_param(data.get("version")) or None
        try:
            async with uow(request, actor) as work:
                if name == "approve":
                    booking = await svc.approve_booking(work, actor, booking_id, version)
                elif name == "decline":
                    booking = await svc.decline_booking(
                        work, actor, booking_id, version, data.get("reason", "")
                    )
                else:
                    booking = await svc.cancel_booking(work, actor, booking_id, version)
                await work.commit()
        except (ValidationFailed, Conflict) as exc:
            return await render_bookings(request, form=data, booking_id=booking_id, error=exc)
        week = _week(data.get("week"))
        if data.get("back") == "schedule" and week is not None:
            return RedirectResponse(
                f"/resources/{booking.resource_id}/schedule?week={week.isoformat()}&done={name}",
                status_code=303,
            )
        return RedirectResponse(f"/bookings?done={name}", status_code=303)

    return endpoint


ROUTES: list[BaseRoute] = [
    Route("/resources/{resource_id:id}/schedule", schedule_page, methods=GET),
    Route("/resources/{resource_id:id}/slots", publish_slots, methods=POST),
    Route("/slots/{slot_id:id}/book", book_slot, methods=POST),
    Route("/bookings", bookings_page, methods=GET, name="bookings"),
    Route("/bookings/{booking_id:id}/approve", _decision("approve"), methods=POST),
    Route("/bookings/{booking_id:id}/decline", _decision("decline"), methods=POST),
    Route("/bookings/{booking_id:id}/cancel", _decision("cancel"), methods=POST),
]
