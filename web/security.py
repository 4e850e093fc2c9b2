"""Security headers and CSRF protection (signed double-submit token), as pure ASGI middleware.

The CSRF token lives in a cookie and must come back in the `csrf_token` form
field or the `X-CSRF-Token` header (htmx sends it from `hx-headers`). It is an
HMAC over a nonce and the session cookie, so a token planted from elsewhere or
carried over from another session does not validate.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSRF_COOKIE = "gj_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SESSION_COOKIE = "gj_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
MAX_FORM_BYTES = 20 * 1024 * 1024

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def make_csrf_token(secret: str, session_token: str) -> str:
    nonce = secrets.token_urlsafe(18)
    return f"{nonce}.{_sign(secret, nonce, session_token)}"


def csrf_token_valid(secret: str, token: str, session_token: str) -> bool:
    nonce, _, sig = token.partition(".")
    if not nonce or not sig:
        return False
    return hmac.compare_digest(sig, _sign(secret, nonce, session_token))


def _sign(secret: str, nonce: str, session_token: str) -> str:
    msg = f"{nonce}|{session_token}".encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()[:32]


def csrf_cookie_header(token: str, secure: bool) -> str:
    # Readable by nobody but the server's pages: HttpOnly is fine, the token is in the HTML.
    attrs = f"{CSRF_COOKIE}={token}; Path=/; SameSite=Lax; HttpOnly"
    return attrs + ("; Secure" if secure else "")


def set_security_headers(headers: MutableHeaders, hsts: bool) -> None:
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if hsts:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                set_security_headers(MutableHeaders(scope=message), self.hsts)
            await send(message)

        await self.app(scope, receive, send_with_headers)


Rejector = Callable[[Request], Awaitable[Response]]


class CSRFMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        secret: str,
        secure: bool,
        on_reject: Rejector,
        exempt_prefixes: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.secret = secret
        self.secure = secure
        self.on_reject = on_reject
        # Paths authenticated by a bearer token, never by a cookie (the JSON API): a
        # browser does not send the token on its own, so there is nothing to forge.
        self.exempt = exempt_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        session_token = request.cookies.get(SESSION_COOKIE, "")
        cookie_token = request.cookies.get(CSRF_COOKIE, "")
        cookie_ok = bool(cookie_token) and csrf_token_valid(
            self.secret, cookie_token, session_token
        )
        token = cookie_token if cookie_ok else make_csrf_token(self.secret, session_token)
        scope.setdefault("state", {})["csrf_token"] = token

        if scope["method"] not in SAFE_METHODS:
            submitted = request.headers.get(CSRF_HEADER)
            if submitted is None:
                submitted, receive = await self._token_from_body(scope, receive)
            if not (cookie_ok and submitted and hmac.compare_digest(submitted, cookie_token)):
                response = await self.on_reject(Request(scope, receive))
                if not cookie_ok:
                    response.headers.append("set-cookie", csrf_cookie_header(token, self.secure))
                await response(scope, receive, send)
                return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and not cookie_ok:
                headers = MutableHeaders(scope=message)
                # A handler that rotated the session (login) set its own token: keep it.
                already = any(CSRF_COOKIE in SimpleCookie(v) for v in headers.getlist("set-cookie"))
                if not already:
                    headers.append("set-cookie", csrf_cookie_header(token, self.secure))
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    async def _token_from_body(self, scope: Scope, receive: Receive) -> tuple[str | None, Receive]:
        """Read the whole body, take the form's token, and replay the body to the app."""
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > MAX_FORM_BYTES or not message.get("more_body", False):
                break

        def replayer() -> Receive:
            queue = list(messages)

            async def replay() -> Message:
                if queue:
                    return queue.pop(0)
                return await receive()

            return replay

        token: str | None = None
        content_type = Request(scope).headers.get("content-type", "")
        if size <= MAX_FORM_BYTES and content_type.startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            try:
                form = await Request(scope, replayer()).form()
                value = form.get(CSRF_FIELD)
                token = value if isinstance(value, str) else None
                await form.close()
            except Exception:
                token = None
        return token, replayer()
