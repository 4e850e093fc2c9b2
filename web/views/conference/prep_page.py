"""The session preparation page, rendered fresh or again after a refused form (shared by
the handlers in `prepare.py` and `session_files.py`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from domain.conference.rules import ACTION_LABELS, MATERIAL_MAX_BYTES
from domain.conference.session_view import session_prep
from domain.enums import Reply
from domain.topics import street_topic
from web.deps import require_actor, uow

# What a redirect after a successful step says on the page it lands on.
DONE = {
    "created": "会议已创建。议程第一项“上次议定事项落实情况”已自动列入。",
    "saved": "会议信息已保存。",
    "open_topic_call": "议题征集已发起，已通知各成员单位联络员。",
    "fix_agenda": "议程已确定。",
    "send_notice": "会议通知已发送，成员单位和列席单位可以回复参会情况。",
    "item": "议程已更新。",
    "material": "材料已更新。",
    "reply": "已回复参会情况。",
}


async def render_prep(
    request: Request,
    failed: str = "",
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> Response:
    """The page; after a refused form, that form keeps its input and shows its messages."""
    actor = require_actor(request)
    async with uow(request, actor) as work:
        prep = await session_prep(work, actor, request.path_params["session_id"])
    done = request.query_params.get("done", "")
    street = prep.access.street_id
    return request.app.state.templates.render(
        request,
        "conference/session_prep.html",
        {
            "prep": prep,
            "s": prep.session,
            "access": prep.access,
            "failed": failed,
            "form": form or {},
            "errors": errors or {},
            "message": message,
            "done": DONE.get(done, ""),
            "late_notice": request.query_params.get("late") == "1",
            "ACTION_LABELS": ACTION_LABELS,
            "Reply": Reply,
            "max_mb": MATERIAL_MAX_BYTES // (1024 * 1024),
            "live_topics": [street_topic(street)] if street is not None else [],
        },
        status_code=status,
    )


async def to_page(request: Request) -> Response:
    """A GET on a form's address lands on the page. After a refused form the browser shows
    the page at the form's address, and its live regions re-fetch from there."""
    return RedirectResponse(f"/sessions/{request.path_params['session_id']}", status_code=303)
