"""The topic call (议题征集) pages; their routes are part of `prepare.ROUTES`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from domain.conference import topics
from domain.enums import TopicStatus
from domain.errors import Conflict, ValidationFailed
from domain.topics import street_topic
from web.deps import form_dict, int_param, require_actor, uow

DONE = {
    "submitted": "议题已提交，秘书处处理后您会收到通知。",
    "decided": "已处理该议题，并已通知提交单位。",
}


async def topics_page(request: Request) -> Response:
    return await _render(request)


async def _render(
    request: Request,
    failed: str = "",
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> Response:
    """`failed` is `submit`, or `decide-<id>` for the decision form of one proposal."""
    actor = require_actor(request)
    cid = request.path_params["conference_id"]
    async with uow(request, actor) as work:
        page = await topics.topic_page(work, actor, cid, request.query_params.get("status", ""))
    street = page.listing.access.street_id
    return request.app.state.templates.render(
        request,
        "conference/topics_list.html",
        {
            "page": page,
            "access": page.listing.access,
            "titles": {p.id: p.title for p in page.listing.everything},
            "failed": failed,
            "form": form or {},
            "errors": errors or {},
            "message": message,
            "done": DONE.get(request.query_params.get("done", ""), ""),
            "TopicStatus": TopicStatus,
            "live_topics": [street_topic(street)] if street is not None else [],
        },
        status_code=status,
    )


async def topic_submit(request: Request) -> Response:
    actor = require_actor(request)
    cid = request.path_params["conference_id"]
    data = await form_dict(request)
    try:
        async with uow(request, actor) as work:
            await topics.submit_topic(work, actor, cid, data)
            await work.commit()
    except ValidationFailed as exc:
        return await _render(request, "submit", data, exc.fields, exc.message, 400)
    return RedirectResponse(f"/conferences/{cid}/topics?done=submitted", status_code=303)


async def topic_decide(request: Request) -> Response:
    actor = require_actor(request)
    tid = request.path_params["topic_id"]
    data = await form_dict(request)
    decision = topics.TopicDecision(
        action=data.get("action", ""),
        version=int_param(data.get("version")),
        reason=data.get("reason", ""),
        session_id=data.get("session_id", ""),
        target_id=data.get("target_id", ""),
    )
    try:
        async with uow(request, actor) as work:
            proposal = await topics.decide_topic(work, actor, tid, decision)
            cid = proposal.conference_id
            await work.commit()
    except (ValidationFailed, Conflict) as exc:
        async with uow(request, actor) as work:
            request.path_params["conference_id"] = await topics.conference_of(work, tid)
        fields = exc.fields if isinstance(exc, ValidationFailed) else {}
        return await _render(request, f"decide-{tid}", data, fields, exc.message, exc.status)
    return RedirectResponse(f"/conferences/{cid}/topics?done=decided#topic-{tid}", status_code=303)


async def to_topics(request: Request) -> Response:
    """A GET on a decision form's address lands on the topic list (see `prep_page.to_page`)."""
    actor = require_actor(request)
    async with uow(request, actor) as work:
        cid = await topics.conference_of(work, request.path_params["topic_id"])
    return RedirectResponse(f"/conferences/{cid}/topics", status_code=303)


ROUTES: list[BaseRoute] = [
    Route("/conferences/{conference_id:id}/topics", topics_page, methods=["GET"]),
    Route("/conferences/{conference_id:id}/topics", topic_submit, methods=["POST"]),
    Route("/topics/{topic_id:id}/decide", topic_decide, methods=["POST"]),
    Route("/topics/{topic_id:id}/decide", to_topics, methods=["GET"]),
]
