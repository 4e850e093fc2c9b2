from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from domain.services.dashboard import build_dashboard
from domain.topics import street_topic
from web.deps import require_actor, uow


async def home(request: Request) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        board = await build_dashboard(work, actor)
    topics = [street_topic(f.street.id) for f in board.streets]
    return request.app.state.templates.render(
        request, "dashboard.html", {"board": board, "live_topics": topics}
    )
