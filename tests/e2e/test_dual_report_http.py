"""双报到 over HTTP: slips, member registration, posts, service hours, the ledger, the
review and the quarterly workbook — forms, CSRF, permissions, Chinese messages."""

from __future__ import annotations

import io
import secrets
from datetime import UTC, datetime, timedelta

from openpyxl import load_workbook
from sqlalchemy import select
from starlette.applications import Starlette

from domain.dual_report.common import beijing_today, this_year
from domain.enums import Role
from domain.models import RoleGrant, User
from domain.models.activities import Activity, ActivityOccurrence, PointEntry
from domain.models.dual_report import ServicePost
from tests.conftest import Browser, soup
from tests.e2e.support import count_statements, field_error, org_id, unit_id, user_id


def slip(community: int, **over: str) -> dict[str, str]:
    return {
        "community_id": str(community), "year": str(this_year()), "contact_name": "李红梅",
        "contact_phone": "010-68120011", "party_members": "236",
        "commitments": "每月义诊一次", "service_wishes": "健康讲座", **over,
    }  # fmt: skip


async def first_id(app: Starlette, model: type, *where: object) -> int:
    async with app.state.session_factory() as s:
        value = await s.scalar(select(model.id).where(*where).order_by(model.id.desc()))  # type: ignore[attr-defined]
    assert value is not None
    return int(value)


async def test_unit_slip_flow(web_app: Starlette, new_browser) -> None:  # type: ignore[no-untyped-def]
    wenhua = await org_id(web_app, "文化里社区")
    hospital = await unit_id(web_app, "和平区人民医院")
    liaison = new_browser()
    await liaison.login("liaison")
    page = await liaison.get("/dual-report")
    assert page.status_code == 200
    doc = soup(page)
    assert doc.select_one('select[name="community_id"] option[selected]')["value"] == str(wenhua)
    bad = await liaison.post(
        "/dual-report/slips",
        {"unit_id": str(hospital), **slip(wenhua, contact_name="", commitments="")},
    )
    assert bad.status_code == 400
    assert field_error(soup(bad), "contact_name") == "请填写联系人。"
    assert soup(bad).select_one('input[name="contact_phone"]')["value"] == "010-68120011"
    # No CSRF token: refused.
    raw = await liaison.client.post(
        "/dual-report/slips", data={"unit_id": str(hospital), **slip(wenhua)}
    )
    assert raw.status_code == 403
    ok = await liaison.post("/dual-report/slips", {"unit_id": str(hospital), **slip(wenhua)})
    assert ok.status_code == 303
    page = await liaison.get(ok.headers["location"])
    assert "报到单已提交" in page.text and "待确认" in page.text
    again = await liaison.post("/dual-report/slips", {"unit_id": str(hospital), **slip(wenhua)})
    assert again.status_code == 400 and "不能重复提交" in again.text

    secretary = new_browser()
    await secretary.login("community")
    page = await secretary.get("/dual-report")
    row = soup(page).select_one("#unit-registrations tr[data-slip]")
    assert row is not None and "和平区人民医院" in row.text
    slip_id = row["data-slip"]
    version = row.select_one('input[name="version"]')["value"]
    empty = await secretary.post(
        f"/dual-report/slips/{slip_id}/return", {"version": version, "reason": ""}
    )
    assert empty.status_code == 400 and "请填写退回原因" in empty.text
    # Someone else's community secretary… the street secretary may not decide.
    other = new_browser()
    await other.login("secretary")
    denied = await other.post(f"/dual-report/slips/{slip_id}/confirm", {"version": version})
    assert denied.status_code == 403
    done = await secretary.post(f"/dual-report/slips/{slip_id}/confirm", {"version": version})
    assert done.status_code == 303
    stale = await secretary.post(f"/dual-report/slips/{slip_id}/confirm", {"version": version})
    assert stale.status_code == 409
    page = await liaison.get("/dual-report")
    assert "已报到" in soup(page).select_one(f'[data-slip="{slip_id}"]').text
    # Street staff see the 报到率 of 文化里社区: 1 of 3 stationed units.
    page = await other.get("/dual-report")
    row = soup(page).select_one(f'tr[data-community="{wenhua}"]')
    assert row is not None and row.select_one(".dr-rate").text.strip() == "33%"


async def test_member_registration_posts_service_and_ledger(
    web_app: Starlette, new_browser
) -> None:  # type: ignore[no-untyped-def]
    wenhua = await org_id(web_app, "文化里社区")
    hospital = await unit_id(web_app, "和平区人民医院")
    secretary = new_browser()
    await secretary.login("community")
    bad = await secretary.post(f"/communities/{wenhua}/posts", {"name": "", "capacity": "x"})
    assert bad.status_code == 400 and "请填写岗位名称" in bad.text
    made = await secretary.post(
        f"/communities/{wenhua}/posts",
        {"name": "平安巡逻岗", "capacity": "5", "description": "夜间巡逻"},
    )
    assert made.status_code == 303
    post_id = await first_id(web_app, ServicePost)
    dept = new_browser()
    await dept.login("dept")
    assert (
        await dept.post(f"/communities/{wenhua}/posts", {"name": "岗", "capacity": "0"})
    ).status_code == 403

    member = new_browser()
    await member.login("member")
    page = await member.get("/dual-report")
    assert soup(page).select_one(f'input[name="post_ids"][value="{post_id}"]') is not None
    form = {"community_id": str(wenhua), "employer_unit_id": str(hospital), "residence": "",
            "phone": "13800000000", "skills": "急救", "post_ids": str(post_id)}  # fmt: skip
    bad = await member.post("/dual-report/register", form)
    assert (
        bad.status_code == 400 and field_error(soup(bad), "residence") == "请填写居住小区和楼栋。"
    )
    assert soup(bad).select_one(f'input[name="post_ids"][value="{post_id}"]').has_attr("checked")
    ok = await member.post("/dual-report/register", {**form, "residence": "文化里小区 3 号楼"})
    assert ok.status_code == 303
    page = await secretary.get("/dual-report")
    row = soup(page).select_one("#member-registrations tr[data-registration]")
    assert "赵明" in row.text and "平安巡逻岗" in row.text
    reg_id = row["data-registration"]
    version = row.select_one('input[name="version"]')["value"]
    assert (
        await secretary.post(f"/dual-report/registrations/{reg_id}/confirm", {"version": version})
    ).status_code == 303
    page = await member.get("/dual-report")
    box = soup(page).select_one("#my-registration")
    assert "已报到" in box.text and "平安巡逻岗" in box.text

    posts_page = await secretary.get(f"/communities/{wenhua}/posts")
    assert "已认领 1 / 5" in posts_page.text and "赵明" in posts_page.text
    member_id = await user_id(web_app, "member")
    day = beijing_today().isoformat()
    bad = await secretary.post(
        f"/dual-report/posts/{post_id}/service",
        {"user_id": str(member_id), "day": day, "hours": "0"},
    )
    assert bad.status_code == 400 and "0.5–24 小时" in bad.text
    ok = await secretary.post(
        f"/dual-report/posts/{post_id}/service",
        {"user_id": str(member_id), "day": day, "hours": "3", "note": "夜巡"},
    )
    assert ok.status_code == 303
    ledger = await member.get("/points/me")
    assert ledger.status_code == 200
    doc = soup(ledger)
    assert doc.select_one('[data-total="all-points"]').text == "3"
    assert "平安巡逻岗" in doc.select_one("#ledger-lines").text
    assert doc.select_one('form[action$="/adjust"]') is None
    # Readers of the ledger: the community secretary and the employer's liaison; not others.
    liaison = new_browser()
    await liaison.login("liaison")
    assert (await liaison.get(f"/points/users/{member_id}")).status_code == 200
    liaison2 = new_browser()
    await liaison2.login("liaison2")
    assert (await liaison2.get(f"/points/users/{member_id}")).status_code == 404
    # A correction by the secretary: a reason is required.
    bad = await secretary.post(f"/points/users/{member_id}/adjust", {"points": "-1", "reason": ""})
    assert bad.status_code == 400 and "请填写调整原因" in bad.text
    ok = await secretary.post(
        f"/points/users/{member_id}/adjust", {"points": "-1", "reason": "重复登记"}
    )
    assert ok.status_code == 303
    assert soup(await member.get("/points/me")).select_one('[data-total="all-points"]').text == "2"
    denied = await liaison.post(f"/points/users/{member_id}/adjust", {"points": "5", "reason": "x"})
    assert denied.status_code == 403

    # The member releases the post; the quarterly workbook for the hospital.
    assert (await member.post(f"/dual-report/posts/{post_id}/release", {})).status_code == 303
    today = beijing_today()
    q = (today.month - 1) // 3 + 1
    url = f"/points/feedback/{hospital}/{today.year}-Q{q}.xlsx"
    got = await liaison.get(url)
    assert got.status_code == 200 and got.headers["content-type"].startswith(
        "application/vnd.openxml"
    )
    ws = load_workbook(io.BytesIO(got.content))["汇总"]
    assert [c.value for c in ws[4]][:3] == [1, "赵明", "文化里社区"] and ws["G4"].value == 2
    assert (await liaison2.get(url)).status_code == 404
    page = await liaison.get("/points/feedback", follow_redirects=True)
    assert page.status_code == 200 and f"{today.year} 年第 {q} 季度" in page.text


async def add_review_data(app: Starlette, n: int) -> None:
    """n members with ledger lines, n activities and n posts in 文化里社区."""
    wenhua = await org_id(app, "文化里社区")
    street = await org_id(app, "新华街道")
    start = datetime(this_year(), 3, 1, 2, tzinfo=UTC)
    async with app.state.session_factory() as s:
        base = await s.scalar(select(User.id).order_by(User.id.desc()).limit(1)) or 0
        for i in range(n):
            user = User(username=f"rv{base + i}", display_name=f"党员{base + i}", password_hash="x")
            s.add(user)
            await s.flush()
            s.add(RoleGrant(user_id=user.id, role=Role.PARTY_MEMBER.value, organization_id=wenhua))
            s.add(
                PointEntry(
                    user_id=user.id,
                    street_id=street,
                    community_id=wenhua,
                    source="point_post",
                    occurred_on=(start + timedelta(days=i)).date(),
                    minutes=60,
                    points=1,
                )
            )
            activity = Activity(
                street_id=street,
                community_id=wenhua,
                kind="themed_day",
                title=f"活动{i}",
                starts_at=start,
                ends_at=start + timedelta(hours=1),
            )
            s.add(activity)
            await s.flush()
            when = start + timedelta(days=i)
            s.add(ActivityOccurrence(activity_id=activity.id, street_id=street, starts_at=when,
                                     ends_at=when + timedelta(hours=1), original_starts_at=when,
                                     checkin_token=secrets.token_urlsafe(24)))  # fmt: skip
            s.add(ServicePost(community_id=wenhua, street_id=street, name=f"岗位{i}"))
        await s.commit()


async def statements(app: Starlette, browser: Browser, url: str) -> int:
    await browser.get(url)
    with count_statements(app) as seen:
        r = await browser.get(url)
    assert r.status_code == 200
    return len(seen)


async def test_review_page_access_and_constant_queries(web_app: Starlette, new_browser) -> None:  # type: ignore[no-untyped-def]
    wenhua = await org_id(web_app, "文化里社区")
    url = f"/communities/{wenhua}/review?year={this_year()}"
    for name, status in (("community", 200), ("secretary", 200), ("district", 200),
                         ("member", 404), ("liaison", 404), ("secretary2", 404)):  # fmt: skip
        b = new_browser()
        await b.login(name)
        assert (await b.get(url)).status_code == status, name
    b = new_browser()
    await b.login("community")
    await add_review_data(web_app, 3)
    small = await statements(web_app, b, url)
    await add_review_data(web_app, 25)
    large = await statements(web_app, b, url)
    assert large == small, (small, large)
    page = soup(await b.get(url))
    assert len(page.select("svg.dr-chart rect.dr-bar")) == 12
    assert "28" in page.select_one(".stats").text  # 28 activities this year
    assert page.select_one("[style]") is None
