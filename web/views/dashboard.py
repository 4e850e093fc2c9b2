from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from domain.evaluation.bulletin import latest_for
from domain.services.dashboard import build_dashboard
from domain.topics import street_topic
from web.deps import require_actor, uow


async def home(request: Request) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        board = await build_dashboard(work, actor)
        latest = await latest_for(work, actor)
    # The street figures' topics, and every street whose bulletin may appear in the card
    # (a socket takes at most 20 topics; the user's own is one of them).
    street_ids = [f.street.id for f in board.streets]
    street_ids += sorted(actor.visible_street_ids - set(street_ids))
    topics = [street_topic(i) for i in street_ids[:19]]
    return request.app.state.templates.render(
        request,
        "dashboard.html",
        {"board": board, "live_topics": topics, "latest_bulletin": latest},
    )
