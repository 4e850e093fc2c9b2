"""Conference pages: the landing page, the overview and its set-up forms (see the package
docstring). Permissions are the services' business; a refusal renders the error page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from domain.conference import landing, setup, topics
from domain.conference.prep import street_rules
from domain.conference.rules import BEIJING
from domain.conference.sessions import list_sessions, regular_count
from domain.enums import MemberRole, OrgLevel
from domain.errors import ValidationFailed
from domain.models.base import utcnow
from domain.parsing import parse_id
from domain.permissions import Actor
from domain.topics import MAX_TOPICS, street_topic
from domain.uow import UnitOfWork
from web.deps import form_dict, require_actor, uow

GET, POST = ["GET"], ["POST"]


async def conference_home(request: Request) -> Response:
    """Straight to the user's own street's conference; a list for those who reach several."""
    actor = require_actor(request)
    async with uow(request, actor) as work:
        reach = await landing.reachable(work, actor)
    if len(reach) == 1 and reach[0].conference is not None:
        return RedirectResponse(f"/conferences/{reach[0].conference.id}", status_code=303)
    return request.app.state.templates.render(
        request,
        "conference/conference_index.html",
        {
            "reach": reach,
            "live_topics": _street_topics(
                r.organization.id for r in reach if r.organization.level == OrgLevel.STREET
            ),
        },
    )


async def conference_create(request: Request) -> Response:
    actor = require_actor(request)
    data = await form_dict(request)
    async with uow(request, actor) as work:
        conference = await setup.create_conference(
            work, actor, parse_id(data.get("street_id", "")) or 0
        )
        await work.commit()
    return RedirectResponse(f"/conferences/{conference.id}?saved=created", status_code=303)


async def overview_page(request: Request) -> Response:
    return await _render(request)


async def _render(
    request: Request,
    failed: str = "",
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> Response:
    """The overview; after a refused form, with that form's input and messages."""
    actor = require_actor(request)
    cid = request.path_params["conference_id"]
    now = utcnow()
    async with uow(request, actor) as work:
        view = await setup.overview(work, actor, cid)
        rows = await list_sessions(work, actor, cid, now)
        rules = await street_rules(work, view.access)
        units = await landing.street_units(
            work, view.access.street_id, view.access.conference.organization_id
        )
        counts = (await topics.list_topics(work, actor, cid)).counts
    year = now.astimezone(BEIJING).year
    forms: dict[str, dict[str, str]] = {
        "member": _member_prefill(view, request.query_params.get("member", "")),
        "rotation": {"year": str(year)},
    }
    if failed:
        forms[failed] = form or {}
    context: dict[str, Any] = {
        "view": view,
        "access": view.access,
        "sessions": rows,
        "rules": rules,
        "year": year,
        "regular_this_year": regular_count(rows, year),
        "units": units,
        "unit_names": {u.id: u.name for u in units}
        | {m.unit.id: m.unit.name for m in view.members},
        "topic_counts": counts,
        "forms": forms,
        "failed": failed,
        "errors": errors or {},
        "message": message,
        "saved": request.query_params.get("saved", ""),
        "MemberRole": MemberRole,
        "live_topics": _street_topics([view.access.street_id]),
    }
    return request.app.state.templates.render(
        request, "conference/conference_overview.html", context, status_code=status
    )


def _member_prefill(view: setup.ConferenceOverview, unit_raw: str) -> dict[str, str]:
    """The member form opened from a member's 修改 link carries what is stored."""
    unit_id = parse_id(unit_raw)
    for m in view.members:
        if m.unit_id == unit_id:
            return {
                "unit_id": str(m.unit_id),
                "role": m.role,
                "duties": m.duties,
                "active": "on" if m.active else "off",
            }
    return {"role": MemberRole.MEMBER.value, "active": "on"}


# A set-up service as the forms call it: (unit of work, actor, conference id, form fields).
SetUp = Callable[[UnitOfWork, Actor, int, dict[str, str]], Awaitable[object]]


async def member_submit(request: Request) -> Response:
    return await _submit(request, "member", lambda w, a, cid, d: setup.set_member(w, a, cid, d))


async def rotation_submit(request: Request) -> Response:
    return await _submit(request, "rotation", lambda w, a, cid, d: setup.set_rotation(w, a, cid, d))


async def secretariat_submit(request: Request) -> Response:
    return await _submit(
        request,
        "secretariat",
        lambda w, a, cid, d: setup.set_secretariat(
            w, a, cid, d.get("username", ""), d.get("action", "add") != "remove"
        ),
    )


async def committee_submit(request: Request) -> Response:
    unit_ids = [str(v) for v in (await request.form()).getlist("unit_ids")]
    return await _submit(
        request,
        "committee",
        lambda w, a, cid, d: setup.add_committee(w, a, cid, d, unit_ids),
        # Ticked boxes come back ticked if the form is refused.
        {"unit_ids": ",".join(unit_ids)},
    )


async def _submit(
    request: Request, name: str, action: SetUp, extra: dict[str, str] | None = None
) -> Response:
    actor = require_actor(request)
    cid = request.path_params["conference_id"]
    data = await form_dict(request) | (extra or {})
    try:
        async with uow(request, actor) as work:
            await action(work, actor, cid, data)
            await work.commit()
    except ValidationFailed as exc:
        return await _render(request, name, data, exc.fields, exc.message, status=400)
    return RedirectResponse(f"/conferences/{cid}?saved={name}#{name}-form", status_code=303)


def _street_topics(street_ids: Iterable[int | None]) -> list[str]:
    # The user's own topic takes one of the socket's places.
    return [street_topic(s) for s in street_ids if s is not None][: MAX_TOPICS - 1]


async def to_overview(request: Request) -> Response:
    """A GET on a set-up form's address lands on the overview (the page re-rendered after a
    refused form sits at the form's address, and its live regions re-fetch from there)."""
    return RedirectResponse(f"/conferences/{request.path_params['conference_id']}", 303)


ROUTES: list[BaseRoute] = [
    Route("/conference", conference_home, methods=GET, name="conference"),
    Route("/conference", conference_create, methods=POST),
    Route("/conferences/{conference_id:id}", overview_page, methods=GET),
    Route("/conferences/{conference_id:id}/members", member_submit, methods=POST),
    Route("/conferences/{conference_id:id}/secretariat", secretariat_submit, methods=POST),
    Route("/conferences/{conference_id:id}/rotation", rotation_submit, methods=POST),
    Route("/conferences/{conference_id:id}/committees", committee_submit, methods=POST),
    *(
        Route(f"/conferences/{{conference_id:id}}/{tail}", to_overview, methods=GET)
        for tail in ("members", "secretariat", "rotation", "committees")
    ),
]
