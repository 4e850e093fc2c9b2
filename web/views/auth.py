"""Login, logout and change of password."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from domain.errors import TooManyAttempts, ValidationFailed
from domain.services import auth
from web.deps import client_ip, current_actor, form_dict, require_actor, uow
from web.security import SESSION_COOKIE, csrf_cookie_header, make_csrf_token


def _safe_next(value: str | None) -> str:
    # Only local paths: an open redirect after login is a phishing tool.
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


async def login_page(request: Request) -> Response:
    if current_actor(request) is not None:
        return RedirectResponse(_safe_next(request.query_params.get("next")), status_code=303)
    return request.app.state.templates.render(
        request, "login.html", {"next": request.query_params.get("next", "")}
    )


async def login_submit(request: Request) -> Response:
    data = await form_dict(request)
    templates = request.app.state.templates
    next_url = _safe_next(data.get("next"))
    try:
        async with uow(request) as work:
            new = await auth.login(
                work,
                data.get("username", ""),
                data.get("password", ""),
                ip=client_ip(request),
                user_agent=request.headers.get("user-agent", ""),
            )
    except (ValidationFailed, TooManyAttempts) as exc:
        status = exc.status
        return templates.render(
            request,
            "login.html",
            {
                "form": {"username": data.get("username", "")},
                "message": exc.message,
                "next": data.get("next", ""),
            },
            status_code=status,
        )
    config = request.app.state.config
    response = RedirectResponse(next_url, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        new.token,
        max_age=int(auth.SESSION_ABSOLUTE.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=config.secure_cookies,
    )
    # A fresh CSRF token bound to the new session (login CSRF / session fixation).
    response.headers.append(
        "set-cookie",
        csrf_cookie_header(make_csrf_token(config.secret_key, new.token), config.secure_cookies),
    )
    return response


async def logout(request: Request) -> Response:
    actor = current_actor(request)
    token = request.scope.get("state", {}).get("session_token", "")
    if token:
        async with uow(request, actor) as work:
            await auth.logout(work, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax")
    return response


async def password_page(request: Request) -> Response:
    require_actor(request)
    return request.app.state.templates.render(request, "account/password.html")


async def password_submit(request: Request) -> Response:
    actor = require_actor(request)
    data = await form_dict(request)
    templates = request.app.state.templates
    try:
        async with uow(request, actor) as work:
            await auth.change_password(
                work,
                actor,
                data.get("current", ""),
                data.get("new", ""),
                data.get("repeat", ""),
                keep_token=request.scope["state"].get("session_token", ""),
            )
    except ValidationFailed as exc:
        return templates.render(
            request,
            "account/password.html",
            {"errors": exc.fields, "message": exc.message},
            status_code=400,
        )
    return templates.render(request, "account/password.html", {"saved": True})
