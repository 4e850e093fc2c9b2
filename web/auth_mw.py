"""Resolves the session cookie to an Actor once per request (pure ASGI)."""

from __future__ import annotations

from http.cookies import SimpleCookie

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Receive, Scope, Send

from domain.services.auth import resolve_session
from domain.uow import UnitOfWork
from web.security import SESSION_COOKIE


def session_token_from_scope(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            cookie = SimpleCookie()
            try:
                cookie.load(value.decode("latin-1"))
            except Exception:
                continue
            morsel = cookie.get(SESSION_COOKIE)
            if morsel is not None:
                return morsel.value
    return ""


class AuthMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        session_factory: async_sessionmaker[AsyncSession],
        skip_prefixes: tuple[str, ...],
    ) -> None:
        self.app = app
        self.session_factory = session_factory
        self.skip = skip_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and not scope["path"].startswith(self.skip):
            state = scope.setdefault("state", {})
            token = session_token_from_scope(scope)
            state["session_token"] = token
            state["actor"] = None
            state["unread"] = 0
            if token:
                async with UnitOfWork(self.session_factory) as uow:
                    resolved = await resolve_session(uow, token)
                if resolved is not None:
                    state["actor"] = resolved.actor
                    state["unread"] = resolved.unread_notifications
        await self.app(scope, receive, send)
