"""One error shape: a full Chinese error page, or a fragment for htmx requests."""

from __future__ import annotations

import logging
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from domain.errors import DomainError, ValidationFailed
from web.api.errors import error_response as api_error_response
from web.api.errors import is_api_path
from web.deps import LoginRequired
from web.htmx import htmx, hx_redirect
from web.security import set_security_headers

log = logging.getLogger("gongjian.web")

TITLES = {
    400: "请求有误",
    403: "没有权限",
    404: "页面不存在",
    405: "不支持的操作",
    409: "内容已被修改",
    413: "上传的文件过大",
    429: "操作过于频繁",
    500: "服务器出错了",
}
DEFAULT_MESSAGES = {
    400: "提交的内容无法处理，请检查后重试。",
    403: "您没有权限访问此页面或执行此操作。",
    404: "您要找的页面不存在，可能已被删除或地址有误。",
    405: "该地址不支持此操作。",
    500: "服务器遇到了意外问题，我们已记录。请稍后再试。",
}


def render_error(request: Request, status: int, message: str | None = None) -> Response:
    if is_api_path(request.url.path):
        # Machine clients get the API's JSON error shape, never a page.
        return api_error_response(status, message)
    templates = request.app.state.templates
    title = TITLES.get(status, "出错了")
    context = {
        "status": status,
        "title": title,
        "detail": message or DEFAULT_MESSAGES.get(status, title),
    }
    name = "_error.html" if htmx(request).wants_fragment else "error.html"
    response: Response = templates.render(request, name, context, status_code=status)
    if htmx(request).wants_fragment:
        # Error fragments go to the page's message area, whatever the original target was.
        response.headers["HX-Retarget"] = "#flash"
        response.headers["HX-Reswap"] = "innerHTML"
    return response


async def csrf_rejected(request: Request) -> Response:
    return render_error(
        request, 403, "页面已过期或请求来源无效（安全校验失败）。请刷新页面后重试。"
    )


async def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    message = exc.message
    # A form error that no page re-rendered (e.g. an htmx action): say what was wrong.
    if isinstance(exc, ValidationFailed) and exc.fields:
        message = "；".join(dict.fromkeys(exc.fields.values()))
    return render_error(request, exc.status, message)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if exc.detail and exc.detail != TITLES.get(exc.status_code) else None
    # Starlette's own English reason phrases are not for our users.
    if detail and detail.isascii():
        detail = None
    response = render_error(request, exc.status_code, detail)
    if exc.headers:
        response.headers.update(exc.headers)  # e.g. `Allow` on a 405, which HTTP requires
    return response


async def login_required(request: Request, exc: Exception) -> Response:
    target = "/login?next=" + quote(
        request.url.path + (f"?{request.url.query}" if request.url.query else "")
    )
    if htmx(request).request:
        return hx_redirect(Response(status_code=204), target)
    return RedirectResponse(target, status_code=303)


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    response = render_error(request, 500)
    # Starlette answers this from its outermost middleware, outside SecurityHeadersMiddleware.
    set_security_headers(response.headers, hsts=request.app.state.config.secure_cookies)
    return response


EXCEPTION_HANDLERS = {
    DomainError: domain_error,
    HTTPException: http_error,
    LoginRequired: login_required,
    Exception: server_error,
}
