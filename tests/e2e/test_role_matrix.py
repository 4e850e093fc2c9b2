"""Who may open what: every demo role against every page, and refused writes change nothing.

The expected table is written out by hand from the rules in `domain/permissions.py`
and the views, not computed from them:

- the directory (`/units…`, every page under it) is for staff roles and admins, not for
  party members (403, whichever unit);
- a unit or street outside the streets a user reaches is "not found" (404) for units,
  "no permission" (403) for a street's settings page;
- only admins and street secretaries manage units, and only in their own street;
- a party member reaches the street of their community (dashboard figures, local rules)
  but not the directory;
- `/admin/…` is for the platform admin only.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette

from domain.models import User
from tests.conftest import Browser, make_config
from tests.e2e.support import (
    CHANGAN_UNIT,
    XINHUA_UNIT,
    count,
    count_audit,
    count_units,
    get_unit,
    org_id,
    street_settings,
    unit_id,
    user_id,
)

ROLES = (
    "admin",
    "district",
    "secretary",
    "supervisor",
    "liaison",
    "dept",
    "community",
    "member",
    "secretary2",
    "liaison2",
    "liaison3",
)

# fmt: off
# Placeholders: {xu}/{cu} a unit in 新华街道/长安街道, {x}/{c} the streets, {user} a user.
# Columns in ROLES order: admin, district, secretary, supervisor, liaison, dept, community,
# member, secretary2, liaison2, liaison3.
#                                   adm  dis  sec  sup  lia  dep  com  mem  se2  li2  li3
EXPECTED: dict[str, tuple[int, ...]] = {
    "/":                            (200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "/units":                       (200, 200, 200, 200, 200, 200, 200, 403, 200, 200, 200),
    "/units?status=retired":        (200, 200, 200, 200, 200, 200, 200, 403, 200, 200, 200),
    "/units/new":                   (200, 403, 200, 403, 403, 403, 403, 403, 200, 403, 403),
    "/units/import":                (200, 403, 200, 403, 403, 403, 403, 403, 200, 403, 403),
    "/units/import/template.xlsx":  (200, 403, 200, 403, 403, 403, 403, 403, 200, 403, 403),
    "/units/{xu}":                  (200, 200, 200, 200, 200, 200, 200, 403, 404, 200, 404),
    "/units/{cu}":                  (200, 200, 404, 404, 404, 404, 404, 403, 200, 404, 200),
    "/units/999999":                (404, 404, 404, 404, 404, 404, 404, 403, 404, 404, 404),
    "/units/{xu}/edit":             (200, 403, 200, 403, 403, 403, 403, 403, 404, 403, 404),
    "/units/{cu}/edit":             (200, 403, 404, 404, 404, 404, 404, 403, 200, 404, 403),
    "/streets/{x}/settings":        (200, 200, 200, 200, 200, 200, 200, 200, 403, 200, 403),
    "/streets/{c}/settings":        (200, 200, 403, 403, 403, 403, 403, 403, 200, 403, 200),
    "/streets/999999/settings":     (404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404),
    "/admin/orgs":                  (200, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    "/admin/orgs/{x}/edit":         (200, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    "/admin/users":                 (200, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    "/admin/users/new":             (200, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    "/admin/users/{user}":          (200, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    "/admin/audit":                 (200, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    "/account/password":            (200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
}
# fmt: on

CELLS = [
    pytest.param(role, route, statuses[i], id=f"{role}-{route}")
    for route, statuses in EXPECTED.items()
    for i, role in enumerate(ROLES)
]


@dataclass
class Matrix:
    app: Starlette
    ids: dict[str, int]
    browser_for: Callable[[str], Awaitable[Browser]]
    anonymous: Browser

    def url(self, route: str) -> str:
        return route.format(**self.ids)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def matrix(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Matrix]:
    """One app for the read-only matrix, with one logged-in browser per role."""
    from gongjian.demo import seed_demo
    from web.app import create_app

    path = tmp_path_factory.mktemp("matrix") / "web.db"
    shutil.copy(sqlite_template, path)
    app = create_app(make_config(f"sqlite+aiosqlite:///{path}"), run_jobs=False)
    await seed_demo(app.state.session_factory)
    clients: list[httpx.AsyncClient] = []

    def make() -> Browser:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 50001)),
            base_url="http://testserver",
        )
        clients.append(client)
        return Browser(client)

    browsers: dict[str, Browser] = {}

    async def browser_for(role: str) -> Browser:
        if role not in browsers:
            b = make()
            r = await b.login(role)
            assert r.status_code == 303, r.text
            browsers[role] = b
        return browsers[role]

    ids = {
        "xu": await unit_id(app, XINHUA_UNIT),
        "cu": await unit_id(app, CHANGAN_UNIT),
        "x": await org_id(app, "新华街道"),
        "c": await org_id(app, "长安街道"),
        "user": await user_id(app, "liaison"),
    }
    try:
        yield Matrix(app, ids, browser_for, make())
    finally:
        for c in clients:
            await c.aclose()
        await app.state.engine.dispose()


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("role", "route", "expected"), CELLS)
async def test_role_may_open_route(matrix: Matrix, role: str, route: str, expected: int) -> None:
    browser = await matrix.browser_for(role)
    r = await browser.get(matrix.url(route))
    assert r.status_code == expected, r.text[:300]
    if expected != 200:
        # Refusals use the one Chinese error page, still inside the user's navigation.
        assert r.headers["content-type"].startswith("text/html")
        doc = r.text
        assert {403: "没有权限", 404: "页面不存在"}[expected] in doc
        assert 'class="whoami"' in doc


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("route", list(EXPECTED))
async def test_anonymous_is_sent_to_login(matrix: Matrix, route: str) -> None:
    url = matrix.url(route)
    r = await matrix.anonymous.get(url)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=" + quote(url)


@pytest.mark.asyncio(loop_scope="module")
async def test_anonymous_htmx_request_is_redirected_by_header(matrix: Matrix) -> None:
    r = await matrix.anonymous.get("/units?kind=department", headers={"HX-Request": "true"})
    assert r.status_code == 204
    assert r.headers["HX-Redirect"] == "/login?next=/units%3Fkind%3Ddepartment"


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(
    ("role", "label"),
    [("secretary", "新华街道概况"), ("secretary2", "长安街道概况"), ("district", "各街道概况")],
)
async def test_dashboard_shows_only_the_streets_in_reach(
    matrix: Matrix, role: str, label: str
) -> None:
    r = await (await matrix.browser_for(role)).get("/")
    assert label in r.text


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("role", ["member", "liaison", "supervisor"])
async def test_navigation_hides_what_the_role_cannot_open(matrix: Matrix, role: str) -> None:
    from bs4 import BeautifulSoup

    r = await (await matrix.browser_for(role)).get("/")
    links = {a["href"] for a in BeautifulSoup(r.text, "html.parser").select("nav.nav a")}
    assert not any(h.startswith("/admin") for h in links)
    assert ("/units" in links) is (role != "member")


@pytest.mark.asyncio(loop_scope="module")
async def test_listing_shows_only_units_in_reach(matrix: Matrix) -> None:
    from bs4 import BeautifulSoup

    async def names(role: str) -> set[str]:
        r = await (await matrix.browser_for(role)).get("/units?status=all")
        doc = BeautifulSoup(r.text, "html.parser")
        return {a.get_text(strip=True) for a in doc.select("#units tbody td:first-child a")}

    assert XINHUA_UNIT in await names("secretary")
    assert CHANGAN_UNIT not in await names("secretary")
    assert CHANGAN_UNIT in await names("liaison3")
    assert XINHUA_UNIT not in await names("liaison3")
    assert {XINHUA_UNIT, CHANGAN_UNIT} <= await names("district")


# --- refused writes (each on its own fresh app) -----------------------------------------

# Which unsafe requests each role tries, and the status it must get. {x}/{c} streets,
# {xu}/{cu} units as above. POST /units creates a unit in 新华街道.
# fmt: off
UNSAFE: dict[str, dict[str, int]] = {
    "district": {"/units": 403, "/units/{xu}": 403, "/units/{cu}": 403,
                 "/admin/users": 403, "/streets/{x}/settings": 403,
                 "/streets/{c}/settings": 403},
    "secretary": {"/units/{cu}": 404, "/admin/users": 403, "/streets/{c}/settings": 403},
    "supervisor": {"/units": 403, "/units/{xu}": 403, "/admin/users": 403,
                   "/streets/{x}/settings": 403},
    "liaison": {"/units": 403, "/units/{xu}": 403, "/admin/users": 403,
                "/streets/{x}/settings": 403},
    "dept": {"/units": 403, "/units/{xu}": 403, "/admin/users": 403,
             "/streets/{x}/settings": 403},
    "community": {"/units": 403, "/units/{xu}": 403, "/admin/users": 403,
                  "/streets/{x}/settings": 403},
    "member": {"/units": 403, "/units/{xu}": 403, "/admin/users": 403,
               "/streets/{x}/settings": 403},
    # A secretary of another street cannot attach a unit to 新华街道 (form error, nothing saved).
    "secretary2": {"/units": 400, "/units/{xu}": 404, "/admin/users": 403,
                   "/streets/{x}/settings": 403},
    "liaison2": {"/units": 403, "/units/{xu}": 403, "/admin/users": 403,
                 "/streets/{x}/settings": 403},
    "liaison3": {"/units": 403, "/units/{cu}": 403, "/admin/users": 403,
                 "/streets/{c}/settings": 403},
}
# fmt: on


@pytest.mark.parametrize("role", list(UNSAFE))
async def test_refused_writes_change_nothing(
    web_app: Starlette, new_browser: Callable[[], Browser], role: str
) -> None:
    ids = {
        "xu": await unit_id(web_app, XINHUA_UNIT),
        "cu": await unit_id(web_app, CHANGAN_UNIT),
        "x": await org_id(web_app, "新华街道"),
        "c": await org_id(web_app, "长安街道"),
    }
    browser = new_browser()
    assert (await browser.login(role)).status_code == 303

    def unit_form(uid: int | None) -> dict[str, str]:
        return {
            "name": "越权写入的单位",
            "kind": "stationed",
            "unit_type": "private_firm",
            "street_id": str(ids["x"] if uid != ids["cu"] else ids["c"]),
            "party_members": "1",
            "version": "1",
        }

    bodies = {
        "/units": unit_form(None),
        "/units/{xu}": unit_form(ids["xu"]),
        "/units/{cu}": unit_form(ids["cu"]),
        "/admin/users": {
            "username": "intruder",
            "display_name": "越权用户",
            "password": "Intruder-pass-1",
        },
        "/streets/{x}/settings": {"meetings_per_year": "12"},
        "/streets/{c}/settings": {"meetings_per_year": "12"},
    }

    async def snapshot() -> tuple[object, ...]:
        xu, cu = await get_unit(web_app, ids["xu"]), await get_unit(web_app, ids["cu"])
        return (
            await count_units(web_app),
            (xu.name, xu.version),
            (cu.name, cu.version),
            await count(web_app, User),
            await street_settings(web_app, ids["x"]),
            await street_settings(web_app, ids["c"]),
            await count_audit(web_app),
        )

    before = await snapshot()
    got = {}
    for route in UNSAFE[role]:
        r = await browser.post(route.format(**ids), bodies[route])
        got[route] = r.status_code
    assert got == UNSAFE[role]
    assert await snapshot() == before
