"""Helpers shared by the HTTP end-to-end tests: ids of demo records, database peeks, counters."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import httpx
from bs4 import BeautifulSoup, Tag
from sqlalchemy import event, func, select
from starlette.applications import Starlette

from domain.models import AuditEntry, Organization, StreetSetting, Unit, User
from tests.conftest import soup

# A unit in each demo street (see gongjian/demo.py).
XINHUA_UNIT = "和平区人民医院"
CHANGAN_UNIT = "滨江日报社"


async def org_id(app: Starlette, name: str) -> int:
    async with app.state.session_factory() as s:
        value = await s.scalar(select(Organization.id).where(Organization.name == name))
    assert value is not None, name
    return int(value)


async def unit_id(app: Starlette, name: str) -> int:
    async with app.state.session_factory() as s:
        value = await s.scalar(select(Unit.id).where(Unit.name == name))
    assert value is not None, name
    return int(value)


async def user_id(app: Starlette, username: str) -> int:
    async with app.state.session_factory() as s:
        value = await s.scalar(select(User.id).where(User.username == username))
    assert value is not None, username
    return int(value)


async def get_unit(app: Starlette, uid: int) -> Unit:
    async with app.state.session_factory() as s:
        unit = await s.get(Unit, uid)
    assert unit is not None
    return unit


async def count(app: Starlette, model: Any, *where: Any) -> int:
    async with app.state.session_factory() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def count_units(app: Starlette) -> int:
    return await count(app, Unit)


async def count_audit(app: Starlette) -> int:
    return await count(app, AuditEntry)


async def street_settings(app: Starlette, street_id: int) -> dict[str, str]:
    async with app.state.session_factory() as s:
        rows = await s.scalars(select(StreetSetting).where(StreetSetting.street_id == street_id))
        return {r.key: r.value for r in rows}


def flash_text(response: httpx.Response) -> str:
    box = soup(response).select_one("#flash")
    return box.get_text(" ", strip=True) if box else ""


def field_error(doc: BeautifulSoup, name: str) -> str:
    """The message shown under a form field (`.field` holding `[name=name]`)."""
    control = doc.select_one(f'[name="{name}"]')
    assert control is not None, f"no field {name}"
    box = control.find_parent(class_="field")
    assert isinstance(box, Tag)
    error = box.select_one(".error")
    return error.get_text(strip=True) if error else ""


def input_value(doc: BeautifulSoup, name: str) -> str:
    control = doc.select_one(f'input[name="{name}"]')
    assert control is not None, f"no input {name}"
    return str(control.get("value", ""))


def selected_value(doc: BeautifulSoup, name: str) -> str:
    option = doc.select_one(f'select[name="{name}"] option[selected]')
    return str(option.get("value", "")) if option else ""


def set_cookie_headers(response: httpx.Response, name: str) -> list[str]:
    return [v for v in response.headers.get_list("set-cookie") if v.startswith(f"{name}=")]


@contextlib.contextmanager
def count_statements(app: Starlette) -> Iterator[list[str]]:
    """Every SQL statement the app sends while the block runs."""
    statements: list[str] = []
    engine = app.state.engine.sync_engine

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
