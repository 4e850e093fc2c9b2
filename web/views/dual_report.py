"""双报到 pages: the home page that adapts to the user (member, liaison, community secretary,
street staff), report-in slips, member registrations, service posts and the yearly review."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from domain.conference.access import acting_unit_ids
from domain.dual_report import members, overview, posts, review, units
from domain.dual_report.common import beijing_today, this_year
from domain.enums import RegistrationState, Role
from domain.errors import Conflict, DomainError, ValidationFailed
from domain.topics import street_topic
from web.deps import form_dict, int_param, require_actor, uow

GET, POST = ["GET"], ["POST"]
R = RegistrationState
DONE = {
    "slip": "报到单已提交，等待社区确认。",
    "slip-resubmit": "报到单已重新提交。",
    "slip-confirm": "已确认单位报到。",
    "slip-return": "已退回报到单。",
    "slip-withdraw": "报到单已撤回。",
    "member": "报到登记已提交，等待社区确认。",
    "member-resubmit": "报到登记已重新提交。",
    "member-confirm": "已确认党员报到。",
    "member-return": "已退回报到登记。",
    "member-end": "已结束报到（迁出），所认岗位已释放。",
    "post": "岗位已保存。",
    "post-active": "岗位状态已更新。",
    "claim": "认岗成功。",
    "release": "已退出该岗位。",
    "service": "服务时长已登记，积分已记入台账。",
}
Form = dict[str, Any]


def _errors(error: DomainError | None) -> dict[str, str]:
    return getattr(error, "fields", {}) if error else {}


async def render_home(
    request: Request, *, form: Form | None = None, form_name: str = "",
    error: DomainError | None = None,
) -> Response:  # fmt: skip
    actor = require_actor(request)
    year = this_year()
    ctx: dict[str, Any] = {"year": year}
    async with uow(request, actor) as work:
        # Member: their registration (or the form), their posts.
        ctx["is_member"] = actor.has(Role.PARTY_MEMBER)
        if ctx["is_member"]:
            reg = await members.my_registration(work, actor.user_id)
            home = members.home_community_ids(actor)
            default = reg.community_id if reg else (home[0] if home else None)
            communities = await members.communities_for(work, actor)
            ctx.update(
                reg=reg,
                claims=await posts.claims_of(work, actor.user_id),
                member_communities=communities,
                employers=await members.employer_units(work, default),
                member_posts=await posts.active_posts(work, {c.id for c in communities}),
                member_defaults={"community_id": default or ""}
                if reg is None or reg.state == R.ENDED.value
                else _reg_values(reg),
            )
        # Liaison (or street staff on a unit's behalf): the slip form and the unit's slips.
        acting = await acting_unit_ids(work, actor)
        slip_units = await units.submittable_units(work, actor)
        ctx["slip_units"] = slip_units
        ctx["slip_communities"] = await units.street_communities(
            work, {u.street_id for u in slip_units}
        )
        ctx["my_slips"] = await units.slips_of_units(
            work, frozenset(acting) & frozenset(u.id for u in slip_units)
        )
        ctx["slip_defaults"] = _slip_defaults(slip_units, acting, year)
        # Community secretary: incoming slips and registrations to decide.
        secretary_of = actor.org_ids_with(Role.COMMUNITY_SECRETARY)
        ctx["secretary_of"] = sorted(secretary_of)
        ctx["incoming"] = await units.slips_for_communities(work, secretary_of, year)
        ctx["registrations"] = await members.registrations_for(work, secretary_of)
        # Street staff: each community's counts.
        ctx["overview"] = await overview.street_overview(
            work, overview.staff_street_ids(actor), year
        )
    ctx.update(
        form=form or {}, form_name=form_name, errors=_errors(error),
        message=error.message if error else None,
        flash=DONE.get(request.query_params.get("done", "")),
        live_topics=[street_topic(s) for s in sorted(actor.visible_street_ids)][:10],
    )  # fmt: skip
    return request.app.state.templates.render(
        request, "dual_report/home.html", ctx, status_code=error.status if error else 200
    )


def _reg_values(reg: Any) -> Form:
    return {
        "community_id": reg.community_id,
        "employer_unit_id": reg.employer_unit_id or "",
        "employer_name": reg.employer_name,
        "residence": reg.residence,
        "phone": reg.phone,
        "skills": reg.skills,
        "note": reg.note,
    }


def _slip_defaults(slip_units: list[Any], acting: frozenset[int], year: int) -> Form:
    mine = [u for u in slip_units if u.id in acting]
    unit = mine[0] if mine else None
    if unit is None:
        return {"year": year}
    return {
        "unit_id": unit.id,
        "community_id": unit.community_id or "",
        "year": year,
        "contact_name": unit.contact_name,
        "contact_phone": unit.contact_phone,
        "party_members": unit.party_members,
    }


async def home(request: Request) -> Response:
    return await render_home(request)


def _done(name: str) -> Response:
    return RedirectResponse(f"/dual-report?done={name}", status_code=303)


async def submit_slip(request: Request) -> Response:
    actor = require_actor(request)
    data = await form_dict(request)
    try:
        async with uow(request, actor) as work:
            await units.submit(work, actor, int_param(data.get("unit_id")), data)
            await work.commit()
    except (ValidationFailed, Conflict) as exc:
        return await render_home(request, form=data, form_name="slip", error=exc)
    return _done("slip")


def _slip_action(name: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        actor = require_actor(request)
        reg_id = request.path_params["reg_id"]
        data = await form_dict(request)
        version = int_param(data.get("version")) or None
        try:
            async with uow(request, actor) as work:
                if name == "resubmit":
                    await units.resubmit(work, actor, reg_id, version, data)
                elif name == "confirm":
                    await units.confirm(work, actor, reg_id, version)
                elif name == "return":
                    await units.return_slip(work, actor, reg_id, version, data.get("reason", ""))
                else:
                    await units.withdraw(work, actor, reg_id, version)
                await work.commit()
        except (ValidationFailed, Conflict) as exc:
            return await render_home(request, form=data, form_name=f"slip-{reg_id}", error=exc)
        return _done(f"slip-{name}")

    return endpoint


async def _post_ids(request: Request) -> list[str]:
    form = await request.form()
    return [v for v in form.getlist("post_ids") if isinstance(v, str)]


async def submit_member(request: Request) -> Response:
    actor = require_actor(request)
    data = await form_dict(request)
    chosen = await _post_ids(request)
    try:
        async with uow(request, actor) as work:
            await members.submit(work, actor, data, chosen)
            await work.commit()
    except (ValidationFailed, Conflict) as exc:
        form = {**data, "post_ids": chosen}
        return await render_home(request, form=form, form_name="member", error=exc)
    return _done("member")


def _member_action(name: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        actor = require_actor(request)
        reg_id = request.path_params["reg_id"]
        data = await form_dict(request)
        chosen = await _post_ids(request)
        version = int_param(data.get("version")) or None
        try:
            async with uow(request, actor) as work:
                if name == "resubmit":
                    await members.resubmit(work, actor, reg_id, version, data, chosen)
                elif name == "confirm":
                    await members.confirm(work, actor, reg_id, version)
                elif name == "return":
                    reason = data.get("reason", "")
                    await members.return_registration(work, actor, reg_id, version, reason)
                else:
                    await members.end(work, actor, reg_id, version)
                await work.commit()
        except (ValidationFailed, Conflict) as exc:
            form_name = "member" if name == "resubmit" else f"reg-{reg_id}"
            form = {**data, "post_ids": chosen}
            return await render_home(request, form=form, form_name=form_name, error=exc)
        return _done(f"member-{name}")

    return endpoint


# --- service posts -----------------------------------------------------------------------


async def render_posts(
    request: Request, org_id: int, *, form: Form | None = None, form_name: str = "",
    error: DomainError | None = None,
) -> Response:  # fmt: skip
    actor = require_actor(request)
    async with uow(request, actor) as work:
        page = await posts.community_posts(work, actor, org_id)
    return request.app.state.templates.render(
        request,
        "dual_report/posts.html",
        {
            "p": page,
            "form": form or {},
            "form_name": form_name,
            "errors": _errors(error),
            "message": error.message if error else None,
            "flash": DONE.get(request.query_params.get("done", "")),
            "today": beijing_today().isoformat(),
            "live_topics": [street_topic(page.community.parent_id or 0)],
        },
        status_code=error.status if error else 200,
    )


async def posts_page(request: Request) -> Response:
    return await render_posts(request, request.path_params["org_id"])


async def create_post(request: Request) -> Response:
    actor = require_actor(request)
    org_id = request.path_params["org_id"]
    data = await form_dict(request)
    try:
        async with uow(request, actor) as work:
            await posts.create_post(work, actor, org_id, data)
            await work.commit()
    except (ValidationFailed, Conflict) as exc:
        return await render_posts(request, org_id, form=data, form_name="new", error=exc)
    return RedirectResponse(f"/communities/{org_id}/posts?done=post", status_code=303)


def _post_action(name: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        actor = require_actor(request)
        post_id = request.path_params["post_id"]
        data = await form_dict(request)
        version = int_param(data.get("version")) or None
        async with uow(request, actor) as work:
            post = await posts.community_of_post(work, post_id)
        try:
            async with uow(request, actor) as work:
                if name == "post":
                    await posts.update_post(work, actor, post_id, version, data)
                elif name == "post-active":
                    active = data.get("active") == "1"
                    await posts.set_active(work, actor, post_id, version, active)
                elif name == "claim":
                    await posts.claim(work, actor, post_id)
                elif name == "release":
                    await posts.release(work, actor, post_id)
                else:
                    await posts.record_service(work, actor, post_id, data)
                await work.commit()
        except (ValidationFailed, Conflict) as exc:
            return await render_posts(
                request, post, form=data, form_name=f"{name}-{post_id}", error=exc
            )
        if data.get("back") == "home":
            return _done(name)
        return RedirectResponse(f"/communities/{post}/posts?done={name}", status_code=303)

    return endpoint


# --- yearly review -----------------------------------------------------------------------


async def review_page(request: Request) -> Response:
    actor = require_actor(request)
    now = this_year()
    year = int_param(request.query_params.get("year"), now)
    if not 2000 <= year <= now + 1:
        year = now
    async with uow(request, actor) as work:
        r = await review.community_review(work, actor, request.path_params["org_id"], year)
    return request.app.state.templates.render(
        request,
        "dual_report/review.html",
        {
            "r": r,
            "years": list(range(now, now - 5, -1)),
            "live_topics": [street_topic(r.street.id)],
        },
    )


ROUTES: list[BaseRoute] = [
    Route("/dual-report", home, methods=GET, name="dual_report"),
    Route("/dual-report/slips", submit_slip, methods=POST),
    *[
        Route(f"/dual-report/slips/{{reg_id:id}}/{n}", _slip_action(n), methods=POST)
        for n in ("resubmit", "confirm", "return", "withdraw")
    ],
    Route("/dual-report/register", submit_member, methods=POST),
    *[
        Route(f"/dual-report/registrations/{{reg_id:id}}/{n}", _member_action(n), methods=POST)
        for n in ("resubmit", "confirm", "return", "end")
    ],
    Route("/communities/{org_id:id}/posts", posts_page, methods=GET),
    Route("/communities/{org_id:id}/posts", create_post, methods=POST),
    *[
        Route(f"/dual-report/posts/{{post_id:id}}/{path}", _post_action(n), methods=POST)
        for path, n in (
            ("edit", "post"),
            ("active", "post-active"),
            ("claim", "claim"),
            ("release", "release"),
            ("service", "service"),
        )
    ],
    Route("/communities/{org_id:id}/review", review_page, methods=GET),
]
