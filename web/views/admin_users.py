"""Admin: users and their role grants."""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from domain.enums import ROLE_SCOPE, Role
from domain.errors import Conflict, ValidationFailed
from domain.models import Organization, Unit
from domain.permissions import can_administer, require
from domain.services import users as svc
from domain.topics import ADMIN_TOPIC
from web.deps import form_dict, int_param, require_actor, uow


async def user_list(request: Request) -> Response:
    actor = require_actor(request)
    q = request.query_params.get("q", "")[:50]
    async with uow(request, actor) as work:
        users = await svc.list_users(work, actor, q)
    return request.app.state.templates.render(
        request, "admin/users.html", {"users": users, "q": q, "live_topics": [ADMIN_TOPIC]}
    )


async def user_new(request: Request) -> Response:
    require(can_administer(require_actor(request)))
    return request.app.state.templates.render(request, "admin/user_new.html")


async def user_create(request: Request) -> Response:
    actor = require_actor(request)
    require(can_administer(actor))
    form = await request.form()
    data = {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        async with uow(request, actor) as work:
            user = await svc.create_user(work, actor, data)
            await work.commit()
    except ValidationFailed as exc:
        data.pop("password", None)  # never echo a password back into the page
        return request.app.state.templates.render(
            request,
            "admin/user_new.html",
            {"form": data, "errors": exc.fields, "message": exc.message},
            400,
        )
    return RedirectResponse(f"/admin/users/{user.id}?saved=1", status_code=303)


async def _detail(request: Request, status: int = 200, **extra: object) -> Response:
    actor = require_actor(request)
    async with uow(request, actor) as work:
        user = await svc.get_user(work, actor, request.path_params["user_id"])
        orgs = list(
            await work.session.scalars(
                select(Organization).order_by(Organization.level, Organization.name)
            )
        )
        units = list(
            await work.session.scalars(
                select(Unit).where(Unit.active.is_(True)).order_by(Unit.street_id, Unit.name)
            )
        )
    context: dict[str, object] = {
        "user": user,
        "orgs": orgs,
        "units": units,
        "roles": list(Role),
        "role_scope": {
            r.value: (s.value, lv.value if lv else "") for r, (s, lv) in ROLE_SCOPE.items()
        },
        "form": {
            "display_name": user.display_name,
            "phone": user.phone,
            "active": user.active,
            "version": user.version,
        },
        "saved": request.query_params.get("saved"),
        "live_topics": [ADMIN_TOPIC],
    }
    context.update(extra)
    return request.app.state.templates.render(
        request, "admin/user_detail.html", context, status_code=status
    )


async def user_detail(request: Request) -> Response:
    return await _detail(request)


async def user_update(request: Request) -> Response:
    actor = require_actor(request)
    user_id = request.path_params["user_id"]
    data = await form_dict(request)
    try:
        async with uow(request, actor) as work:
            await svc.update_user(work, actor, user_id, int_param(data.get("version")), data)
            await work.commit()
    except (ValidationFailed, Conflict) as exc:
        data["active"] = data.get("active") in {"on", "1", "true"}  # type: ignore[assignment]
        return await _detail(
            request, exc.status, form=data, errors=getattr(exc, "fields", {}), message=exc.message
        )
    return RedirectResponse(f"/admin/users/{user_id}?saved=1", status_code=303)


async def user_reset_password(request: Request) -> Response:
    actor = require_actor(request)
    user_id = request.path_params["user_id"]
    form = await request.form()
    password = form.get("password")
    try:
        async with uow(request, actor) as work:
            await svc.reset_password(
                work, actor, user_id, password if isinstance(password, str) else ""
            )
            await work.commit()
    except ValidationFailed as exc:
        return await _detail(request, 400, pw_errors=exc.fields, message=exc.message)
    return RedirectResponse(f"/admin/users/{user_id}?saved=password", status_code=303)


async def user_grant(request: Request) -> Response:
    actor = require_actor(request)
    user_id = request.path_params["user_id"]
    data = await form_dict(request)
    try:
        async with uow(request, actor) as work:
            await svc.grant_role(work, actor, user_id, data)
            await work.commit()
    except ValidationFailed as exc:
        return await _detail(
            request, 400, grant_form=data, grant_errors=exc.fields, message=exc.message
        )
    return RedirectResponse(f"/admin/users/{user_id}?saved=role", status_code=303)


async def user_revoke(request: Request) -> Response:
    actor = require_actor(request)
    user_id = request.path_params["user_id"]
    try:
        async with uow(request, actor) as work:
            await svc.revoke_role(work, actor, user_id, request.path_params["grant_id"])
            await work.commit()
    except ValidationFailed as exc:
        return await _detail(request, 400, message=exc.message)
    return RedirectResponse(f"/admin/users/{user_id}?saved=role", status_code=303)
