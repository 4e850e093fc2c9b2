"""Pages run a fixed number of SQL statements, however many units there are (no N+1)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from domain.enums import OrgLevel, UnitKind, UnitType
from domain.models import Organization, Unit
from tests.conftest import Browser, soup
from tests.e2e.support import count, count_statements, org_id

KINDS = [UnitKind.STATIONED, UnitKind.DEPARTMENT, UnitKind.COMMUNITY]
TYPES = [UnitType.PRIVATE_FIRM, UnitType.SOCIAL_ORG, UnitType.GOVERNMENT, UnitType.STATE_FIRM]

# Generous ceilings: a few queries more is fine; one per row is not.
MAX_STATEMENTS = {"/": 10, "/units": 8}


async def add_units(app: Starlette, street: str, n: int) -> None:
    """Units spread over the street's communities, kinds and types."""
    street_id = await org_id(app, street)
    async with app.state.session_factory() as s:
        communities = list(
            await s.scalars(
                select(Organization.id).where(
                    Organization.parent_id == street_id, Organization.level == OrgLevel.COMMUNITY
                )
            )
        )
        start = await s.scalar(select(Unit.id).order_by(Unit.id.desc()).limit(1)) or 0
        for i in range(n):
            s.add(
                Unit(
                    name=f"测试单位{start + i + 1:04d}",
                    kind=KINDS[i % len(KINDS)].value,
                    unit_type=TYPES[i % len(TYPES)].value,
                    street_id=street_id,
                    community_id=communities[i % len(communities)] if i % 4 else None,
                    party_members=i,
                    active=i % 7 != 0,
                )
            )
        await s.commit()


async def statements_for(app: Starlette, browser: Browser, url: str) -> int:
    await browser.get(url)  # warm up: first-use queries (e.g. connection setup) do not count
    with count_statements(app) as statements:
        r = await browser.get(url)
    assert r.status_code == 200
    return len(statements)


@pytest.mark.parametrize("url", ["/", "/units", "/units?status=all"])
async def test_secretary_pages_do_not_grow_with_the_number_of_units(
    web_app: Starlette, browser: Browser, url: str
) -> None:
    await browser.login("secretary")
    xinhua = await org_id(web_app, "新华街道")
    existing = await count(web_app, Unit, Unit.street_id == xinhua)
    await add_units(web_app, "新华街道", 30 - existing)
    assert await count(web_app, Unit, Unit.street_id == xinhua) == 30

    small = await statements_for(web_app, browser, url)
    await add_units(web_app, "新华街道", 50)
    large = await statements_for(web_app, browser, url)

    assert small <= MAX_STATEMENTS[url.split("?")[0]], small
    assert large == small


async def test_listing_really_shows_the_added_units(web_app: Starlette, browser: Browser) -> None:
    await browser.login("secretary")
    await add_units(web_app, "新华街道", 50)
    doc = soup(await browser.get("/units?status=all&q=测试单位"))
    assert len(doc.select("#units tbody tr")) == 50
    assert "共 50 个单位" in doc.get_text()
    # Community names come from the eager load, not one query each.
    assert "文化里社区" in doc.select_one("#units").get_text()


@pytest.mark.parametrize("username", ["admin", "district", "community", "liaison"])
async def test_other_dashboards_do_not_grow_either(
    web_app: Starlette, browser: Browser, username: str
) -> None:
    await browser.login(username)
    small = await statements_for(web_app, browser, "/")
    await add_units(web_app, "新华街道", 50)
    await add_units(web_app, "长安街道", 50)
    large = await statements_for(web_app, browser, "/")
    assert small <= MAX_STATEMENTS["/"], small
    assert large == small
