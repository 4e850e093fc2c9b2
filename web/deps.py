"""Request-scoped helpers shared by handlers: the actor, a unit of work, form data."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import HTTPConnection, Request

from domain.permissions import Actor
from domain.uow import UnitOfWork


class LoginRequired(Exception):
    """No valid session: the error handler sends the user to the login page."""


def current_actor(conn: HTTPConnection) -> Actor | None:
    actor = conn.scope.get("state", {}).get("actor")
    return actor if isinstance(actor, Actor) else None


def require_actor(conn: HTTPConnection) -> Actor:
    actor = current_actor(conn)
    if actor is None:
        raise LoginRequired()
    return actor


def client_ip(conn: HTTPConnection) -> str:
    return conn.client.host if conn.client else ""


def uow(conn: HTTPConnection, actor: Actor | None = None) -> UnitOfWork:
    return UnitOfWork(
        conn.app.state.session_factory,
        actor or current_actor(conn),
        ip=client_ip(conn),
        on_events=conn.app.state.live.wake,
    )


async def form_dict(request: Request) -> dict[str, str]:
    """Text fields of the submitted form (files dropped), for services and re-rendering."""
    form: FormData = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}


# Larger numbers fit no INTEGER column (PostgreSQL's is 32-bit) and would fail the query.
MAX_INT = 2**31 - 1


def int_param(value: str | None, default: int = 0) -> int:
    try:
        number = int(value) if value is not None else default
    except ValueError:
        return default
    return number if -MAX_INT <= number <= MAX_INT else default
