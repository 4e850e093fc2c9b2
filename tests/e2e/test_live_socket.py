"""The /live websocket through the app: who may connect, to what, and replay on reconnect."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import delete, select
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from domain.models import Event, Organization, Unit
from tests.conftest import make_config

ORIGIN = {"origin": "http://testserver"}
SEQ = re.compile(r'id="live-cursor"[^>]*data-seq="(\d+)"[^>]*data-refresh="([^"]*)"')


@pytest.fixture
def client(sqlite_url: str) -> Iterator[TestClient]:
    import asyncio

    from gongjian.demo import seed_demo
    from web.app import create_app

    app = create_app(make_config(sqlite_url), run_jobs=False, live_poll_seconds=0.05)
    asyncio.run(seed_demo(app.state.session_factory))
    with TestClient(app) as c:  # runs the lifespan: relay and hub are live
        yield c


def login(client: TestClient, username: str) -> None:
    client.get("/login")
    r = client.post(
        "/login",
        data={
            "csrf_token": client.cookies["gj_csrf"],
            "username": username,
            "password": "gongjian-demo",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303


def ids(client: TestClient) -> dict[str, int]:
    async def load() -> dict[str, int]:
        async with client.app.state.session_factory() as s:  # type: ignore[attr-defined]
            xinhua = await s.scalar(select(Organization.id).where(Organization.name == "新华街道"))
            changan = await s.scalar(select(Organization.id).where(Organization.name == "长安街道"))
            unit = await s.scalar(select(Unit.id).where(Unit.name == "和平区人民医院"))
            return {"xinhua": xinhua, "changan": changan, "unit": unit}  # type: ignore[dict-item]

    return client.portal.call(load)  # type: ignore[union-attr]


def rejected(client: TestClient, url: str, headers: dict[str, str]) -> bool:
    try:
        with client.websocket_connect(url, headers=headers) as ws:
            ws.receive_text()
    except WebSocketDisconnect as exc:
        return exc.code == 1008
    return False


def test_handshake_needs_login_and_our_origin(client: TestClient) -> None:
    street = ids(client)["xinhua"]
    url = f"/live?topics=street:{street}&seq=0"
    assert rejected(client, url, ORIGIN)  # not logged in
    login(client, "secretary")
    assert rejected(client, url, {})  # no Origin
    assert rejected(client, url, {"origin": "http://evil.example"})  # another site
    assert rejected(client, "/live?topics=&seq=0", ORIGIN)
    assert rejected(client, "/live?topics=street:abc&seq=0", ORIGIN)


def test_topics_are_authorised_like_the_pages(client: TestClient) -> None:
    known = ids(client)
    login(client, "secretary")
    # Another street, another user's notifications, the admin pages: refused outright.
    for topic in (f"street:{known['changan']}", "user:1", "admin:1"):
        assert rejected(client, f"/live?topics={topic}&seq=0", ORIGIN), topic
    with client.websocket_connect(
        f"/live?topics=street:{known['xinhua']},unit:{known['unit']}&seq=0", headers=ORIGIN
    ):
        pass


def _edit(client: TestClient, unit_id: int, address: str) -> None:
    form = client.get(f"/units/{unit_id}/edit").text
    version = re.search(r'name="version" value="(\d+)"', form)
    street = re.search(r'<select id="f-street_id".*?<option value="(\d+)" selected', form, re.S)
    assert version and street
    r = client.post(
        f"/units/{unit_id}",
        data={
            "csrf_token": client.cookies["gj_csrf"],
            "version": version.group(1),
            "name": "和平区人民医院",
            "kind": "stationed",
            "unit_type": "public_institution",
            "street_id": street.group(1),
            "address": address,
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:300]


def test_change_is_pushed_then_replayed_after_a_reconnect(client: TestClient) -> None:
    known = ids(client)
    login(client, "secretary")
    page = client.get(f"/units/{known['unit']}").text
    cursor = int(re.search(r'id="live" hx-ext="ws" data-seq="(\d+)"', page).group(1))  # type: ignore[union-attr]
    url = f"/live?topics=unit:{known['unit']}&seq={cursor}"
    with client.websocket_connect(url, headers=ORIGIN) as ws:
        _edit(client, known["unit"], "新华路 18 号（一）")
        message = ws.receive_text()
    assert f'id="unit-facts-{known["unit"]}"' in message and "（一）" in message
    last = int(SEQ.search(message).group(1))  # type: ignore[union-attr]

    for i in range(3):  # while away
        _edit(client, known["unit"], f"新华路 18 号（离线 {i}）")
    with client.websocket_connect(
        f"/live?topics=unit:{known['unit']}&seq={last}", headers=ORIGIN
    ) as ws:
        replayed = [ws.receive_text() for _ in range(3)]
    seqs = [int(SEQ.search(m).group(1)) for m in replayed]  # type: ignore[union-attr]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3 and seqs[0] > last


def test_a_cursor_older_than_the_outbox_gets_a_full_refresh(client: TestClient) -> None:
    known = ids(client)
    login(client, "secretary")
    for i in range(2):
        _edit(client, known["unit"], f"新华路 18 号（{i}）")

    async def forget_old_events() -> None:
        async with client.app.state.session_factory() as s:  # type: ignore[attr-defined]
            newest = await s.scalar(select(Event.seq).order_by(Event.seq.desc()).limit(1))
            await s.execute(delete(Event).where(Event.seq < newest))
            await s.commit()

    client.portal.call(forget_old_events)  # type: ignore[union-attr]
    with client.websocket_connect(f"/live?topics=unit:{known['unit']}&seq=1", headers=ORIGIN) as ws:
        first = ws.receive_text()
    match = SEQ.search(first)
    assert match and match.group(2) == "*"  # re-render every live region


def test_slow_client_is_told_to_come_back() -> None:
    """The watchdog closes an overflowed socket with 1013, which htmx-ext-ws retries."""
    import asyncio
    from types import SimpleNamespace

    from adapters.live.hub import Connection
    from web.live import CLOSE_TRY_AGAIN, _watch

    class FakeSocket:
        closed_with: int | None = None
        app = SimpleNamespace(state=SimpleNamespace())

        async def close(self, code: int = 1000) -> None:
            self.closed_with = code

    async def scenario() -> int | None:
        ws = FakeSocket()
        conn = Connection(1, "甲", frozenset({"street:3"}), 0)
        conn.overflowed.set()
        await _watch(ws, conn, "token")  # type: ignore[arg-type]
        return ws.closed_with

    assert asyncio.run(scenario()) == CLOSE_TRY_AGAIN
