"""One date of an activity: sign-up, waitlist, approval, check-in (QR and organiser),
settlement and summary; the check-in page a member's phone opens from the QR code; the
member's own activities; the make-up list."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import segno
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from domain.activities import checkin, makeup, settlement, signup
from domain.activities.occurrence_view import my_activities, occurrence_page
from domain.activities.signup_base import load_context
from domain.errors import Conflict, DomainError, ValidationFailed
from domain.topics import street_topic
from web.deps import form_dict, int_param, require_actor, uow

GET, POST = ["GET"], ["POST"]
DONE = {
    "signup": "报名成功。",
    "cancel": "已取消报名。",
    "approve": "已审核通过。",
    "decline": "已标记为未通过，并通知了报名人。",
    "checkin": "已签到。",
    "undo": "已撤销签到。",
    "settle": "结算完成：参加者的服务时长和积分已入账。",
    "summary": "活动小结已保存。",
    "token": "已生成新的签到二维码，旧二维码已失效。",
    "makeup": "已登记补课。",
}
SIGNUP_DONE = {
    "signup_confirmed": "报名成功，已为您保留名额。",
    "signup_waitlisted": "名额已满，您已进入候补名单，有名额时将自动递补并通知您。",
    "signup_pending": "报名已提交，等待组织方审核。",
}


def _page_url(occurrence_id: int, done: str = "") -> str:
    return f"/activities/o/{occurrence_id}" + (f"?done={done}" if done else "")


async def render_occurrence(
    request: Request,
    occurrence_id: int,
    *,
    form: dict[str, str] | None = None,
    form_name: str = "",
    target: int = 0,
    error: DomainError | None = None,
) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        page = await occurrence_page(work, actor, occurrence_id)
    done = request.query_params.get("done", "")
    flash = SIGNUP_DONE.get(request.query_params.get("state", "")) if done == "signup" else None
    return request.app.state.templates.render(
        request,
        "activities/occurrence.html",
        {
            "p": page,
            "form": form or {},
            "form_name": form_name,
            "target": target,
            "errors": getattr(error, "fields", {}) if error else {},
            "message": error.message if error else None,
            "flash": flash or DONE.get(done),
            "live_topics": [street_topic(page.occ.street_id)],
        },
        status_code=error.status if error else 200,
    )


async def occurrence_get(request: Request) -> Response:
    return await render_occurrence(request, request.path_params["occurrence_id"])


async def signup_post(request: Request) -> Response:
    actor = require_actor(request)
    occurrence_id = request.path_params["occurrence_id"]
    data = await form_dict(request)
    try:
        async with uow(request, actor) as work:
            row = await signup.sign_up(work, actor, occurrence_id, data.get("note", ""))
            state = row.state
            await work.commit()
    except (ValidationFailed, Conflict) as exc:
        return await render_occurrence(
            request, occurrence_id, form=data, form_name="signup", error=exc
        )
    return RedirectResponse(
        f"/activities/o/{occurrence_id}?done=signup&state={state}", status_code=303
    )


def _signup_action(name: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        actor = require_actor(request)
        signup_id = request.path_params["signup_id"]
        data = await form_dict(request)
        version = int_param(data.get("version")) or None
        occurrence_id = 0
        try:
            async with uow(request, actor) as work:
                if name == "cancel":
                    row = await signup.cancel_signup(work, actor, signup_id, version)
                elif name == "approve":
                    row = await signup.approve(work, actor, signup_id, version)
                elif name == "decline":
                    row = await signup.decline(
                        work, actor, signup_id, data.get("reason", ""), version
                    )
                else:
                    row = await checkin.organiser_checkin(
                        work, actor, signup_id, undo=name == "undo", version=version
                    )
                occurrence_id = row.occurrence_id
                await work.commit()
        except (ValidationFailed, Conflict) as exc:
            occurrence_id = occurrence_id or int_param(data.get("occurrence"))
            if not occurrence_id:
                raise
            return await render_occurrence(
                request, occurrence_id, form=data, form_name=name, target=signup_id, error=exc
            )
        back = "/activities/mine?done=cancel" if data.get("back") == "mine" else None
        return RedirectResponse(back or _page_url(occurrence_id, name), status_code=303)

    return endpoint


def _occurrence_action(name: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        actor = require_actor(request)
        occurrence_id = request.path_params["occurrence_id"]
        data = await form_dict(request)
        version = int_param(data.get("version")) or None
        try:
            async with uow(request, actor) as work:
                if name == "settle":
                    await settlement.settle(work, actor, occurrence_id, version)
                else:
                    await settlement.save_summary(
                        work, actor, occurrence_id, data.get("summary", ""), version
                    )
                await work.commit()
        except (ValidationFailed, Conflict) as exc:
            return await render_occurrence(
                request, occurrence_id, form=data, form_name=name, error=exc
            )
        return RedirectResponse(_page_url(occurrence_id, name), status_code=303)

    return endpoint


# --- the QR code and the check-in page -------------------------------------------------------


def _origin(request: Request) -> str:
    configured: str | None = request.app.state.config.public_origin
    return configured or str(request.base_url).rstrip("/")


def qr_svg(url: str) -> Markup:
    """The QR code as inline SVG (no external resource, no style attribute: CSP-safe)."""
    code = segno.make(url, error="m")
    svg = code.svg_inline(scale=4, omitsize=True, svgclass="qr-svg", light="#fff")
    return Markup(svg)  # segno's own markup; the URL is encoded in the paths


async def qr_page(request: Request, *, flash: str | None = None) -> Response:
    actor = require_actor(request)
    occurrence_id = request.path_params["occurrence_id"]
    async with uow(request, actor) as work:
        ctx = await load_context(work, actor, occurrence_id)
        ctx.access.require_organiser()
    url = f"{_origin(request)}/checkin/{ctx.occ.checkin_token}"
    return request.app.state.templates.render(
        request,
        "activities/qr.html",
        {
            "ctx": ctx,
            "url": url,
            "svg": qr_svg(url),
            "flash": flash or DONE.get(request.query_params.get("done", "")),
            "live_topics": [],
        },
    )


async def qr_get(request: Request) -> Response:
    return await qr_page(request)


async def qr_regenerate(request: Request) -> Response:
    actor = require_actor(request)
    occurrence_id = request.path_params["occurrence_id"]
    async with uow(request, actor) as work:
        await checkin.regenerate_token(work, actor, occurrence_id)
        await work.commit()
    return RedirectResponse(f"/activities/o/{occurrence_id}/qr?done=token", status_code=303)


async def render_checkin(
    request: Request, *, done: bool = False, error: DomainError | None = None
) -> Response:
    actor = require_actor(request)
    token = request.path_params["token"]
    async with uow(request, actor) as work:
        view = await checkin.checkin_view(work, actor, token)
    return request.app.state.templates.render(
        request,
        "activities/checkin.html",
        {
            "v": view,
            "done": done,
            "message": error.message if error else None,
            "live_topics": [],
        },
        status_code=error.status if error else 200,
    )


async def checkin_get(request: Request) -> Response:
    return await render_checkin(request)


async def checkin_post(request: Request) -> Response:
    actor = require_actor(request)
    try:
        async with uow(request, actor) as work:
            await checkin.checkin_by_token(work, actor, request.path_params["token"])
            await work.commit()
    except Conflict as exc:
        return await render_checkin(request, error=exc)
    return await render_checkin(request, done=True)


# --- my activities and the make-up list --------------------------------------------------------


async def mine_get(request: Request) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        mine = await my_activities(work, actor)
    return request.app.state.templates.render(
        request,
        "activities/mine.html",
        {
            "m": mine,
            "flash": DONE.get(request.query_params.get("done", "")),
            "live_topics": [],
        },
    )


async def render_makeups(
    request: Request,
    *,
    form: dict[str, Any] | None = None,
    target: int = 0,
    error: DomainError | None = None,
) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        listing = await makeup.list_makeups(work, actor)
    streets = sorted({r.record.street_id for r in listing.open + listing.closed})
    return request.app.state.templates.render(
        request,
        "activities/makeups.html",
        {
            "l": listing,
            "form": form or {},
            "target": target,
            "errors": getattr(error, "fields", {}) if error else {},
            "message": error.message if error else None,
            "flash": DONE.get(request.query_params.get("done", "")),
            "live_topics": [street_topic(s) for s in streets][:19],
        },
        status_code=error.status if error else 200,
    )


async def makeups_get(request: Request) -> Response:
    return await render_makeups(request)


async def makeup_close(request: Request) -> Response:
    actor = require_actor(request)
    makeup_id = request.path_params["makeup_id"]
    data = await form_dict(request)
    try:
        async with uow(request, actor) as work:
            await makeup.close_by_hand(
                work, actor, makeup_id, data.get("note", ""), int_param(data.get("version")) or None
            )
            await work.commit()
    except (ValidationFailed, Conflict) as exc:
        return await render_makeups(request, form=data, target=makeup_id, error=exc)
    return RedirectResponse("/activities/makeups?done=makeup", status_code=303)


ROUTES: list[BaseRoute] = [
    Route("/activities/mine", mine_get, methods=GET, name="my_activities"),
    Route("/activities/makeups", makeups_get, methods=GET, name="activity_makeups"),
    Route("/activities/makeups/{makeup_id:id}/close", makeup_close, methods=POST),
    Route("/activities/o/{occurrence_id:id}", occurrence_get, methods=GET),
    Route("/activities/o/{occurrence_id:id}/signup", signup_post, methods=POST),
    Route("/activities/o/{occurrence_id:id}/settle", _occurrence_action("settle"), methods=POST),
    Route("/activities/o/{occurrence_id:id}/summary", _occurrence_action("summary"), methods=POST),
    Route("/activities/o/{occurrence_id:id}/qr", qr_get, methods=GET),
    Route("/activities/o/{occurrence_id:id}/qr", qr_regenerate, methods=POST),
    Route("/activities/signups/{signup_id:id}/cancel", _signup_action("cancel"), methods=POST),
    Route("/activities/signups/{signup_id:id}/approve", _signup_action("approve"), methods=POST),
    Route("/activities/signups/{signup_id:id}/decline", _signup_action("decline"), methods=POST),
    Route("/activities/signups/{signup_id:id}/checkin", _signup_action("checkin"), methods=POST),
    Route("/activities/signups/{signup_id:id}/undo", _signup_action("undo"), methods=POST),
    Route("/checkin/{token}", checkin_get, methods=GET),
    Route("/checkin/{token}", checkin_post, methods=POST),
]
