"""Files of a session: materials (upload, download, delete) and the .ics invitation; their
routes are part of `prepare.ROUTES`."""

from __future__ import annotations

from urllib.parse import quote

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from domain.conference import materials
from domain.conference.invitation import invitation
from domain.conference.rules import MATERIAL_MAX_BYTES
from domain.errors import ValidationFailed
from web.deps import require_actor, uow
from web.views.conference.prep_page import render_prep, to_page


async def material_upload(request: Request) -> Response:
    actor = require_actor(request)
    sid = request.path_params["session_id"]
    form = await request.form()
    try:
        upload = form.get("file")
        item_raw = str(form.get("item_id") or "")
        name, ctype, data = "", "", b""
        if isinstance(upload, UploadFile):
            name, ctype = upload.filename or "", upload.content_type or ""
            # One byte more than allowed is enough to know it is too large.
            data = await upload.read(MATERIAL_MAX_BYTES + 1)
        try:
            async with uow(request, actor) as work:
                await materials.upload_material(work, actor, sid, name, ctype, data, item_raw)
                await work.commit()
        except ValidationFailed as exc:
            return await render_prep(
                request, "material", {"item_id": item_raw}, exc.fields, exc.message, 400
            )
    finally:
        await form.close()
    return RedirectResponse(f"/sessions/{sid}?done=material#session-materials", status_code=303)


async def material_download(request: Request) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        m = await materials.download_material(work, actor, request.path_params["material_id"])
    return Response(
        m.data,
        media_type=m.content_type,
        headers={"Content-Disposition": _attachment(m.filename, f"material-{m.id}")},
    )


async def material_delete(request: Request) -> Response:
    actor = require_actor(request)
    mid = request.path_params["material_id"]
    async with uow(request, actor) as work:
        sid = await materials.delete_material(work, actor, mid)
        await work.commit()
    return RedirectResponse(f"/sessions/{sid}?done=material#session-materials", status_code=303)


async def invite_ics(request: Request) -> Response:
    actor = require_actor(request)
    sid = request.path_params["session_id"]
    origin = request.app.state.config.public_origin or str(request.base_url).rstrip("/")
    async with uow(request, actor) as work:
        ics = await invitation(work, actor, sid, f"{origin}/sessions/{sid}")
    return Response(
        ics.body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": _attachment(ics.filename, f"session-{sid}")},
    )


def _attachment(filename: str, ascii_stem: str) -> str:
    """A download, never shown in our origin; the real name for browsers that read
    RFC 5987, an ASCII one for those that do not."""
    ext = filename.rsplit(".", 1)[-1] if "." in filename else ""
    fallback = f"{ascii_stem}.{ext}" if ext.isascii() and ext.isalnum() else ascii_stem
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


ROUTES: list[BaseRoute] = [
    Route("/sessions/{session_id:id}/materials", material_upload, methods=["POST"]),
    Route("/sessions/{session_id:id}/materials", to_page, methods=["GET"]),
    Route("/materials/{material_id:id}", material_download, methods=["GET"]),
    Route("/materials/{material_id:id}/delete", material_delete, methods=["POST"]),
    Route("/sessions/{session_id:id}/invite.ics", invite_ics, methods=["GET"]),
]
