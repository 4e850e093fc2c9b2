"""Admin pages: users and role grants, the audit log and the organisation tree."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from bs4 import BeautifulSoup
from starlette.applications import Starlette

from domain.models import Organization, User
from tests.conftest import Browser, soup
from tests.e2e.support import count, field_error, flash_text, input_value, org_id, user_id

NewBrowser = Callable[[], Browser]
BEIJING = timezone(timedelta(hours=8))


def _grants(doc: BeautifulSoup) -> list[str]:
    return [" ".join(li.get_text(" ", strip=True).split()) for li in doc.select("#user-grants li")]


def _audit_rows(doc: BeautifulSoup) -> list[dict[str, str]]:
    rows = []
    for tr in doc.select("#audit tbody tr"):
        cells = [td.get_text(" ", strip=True) for td in tr.select("td")]
        if len(cells) == 6:
            rows.append(
                dict(
                    zip(["at", "actor", "action", "object", "summary", "diff"], cells, strict=True)
                )
            )
    return rows


async def test_create_user_grant_and_revoke_a_role_then_find_it_in_the_audit_log(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    admin = new_browser()
    await admin.login("admin")

    # Create.
    r = await admin.post(
        "/admin/users",
        {
            "username": "wangfang",
            "display_name": "王芳",
            "phone": "13800000000",
            "password": "Start-pass-2026",
        },
    )
    assert r.status_code == 303
    detail_url = r.headers["location"].split("?")[0]
    page = soup(await admin.get(r.headers["location"]))
    assert page.select_one(".alert-ok").get_text(strip=True) == "已保存。"
    assert "王芳" in page.select_one("h1").get_text()
    assert _grants(page) == ["尚无角色。"]
    users = soup(await admin.get("/admin/users?q=wangfang"))
    assert [a.get_text() for a in users.select("#users tbody a")] == ["wangfang"]

    # The new user can log in and has nothing assigned yet.
    newcomer = new_browser()
    assert (await newcomer.login("wangfang", "Start-pass-2026")).status_code == 303
    assert "尚未分配组织或单位" in (await newcomer.get("/")).text

    # Grant: supervisor of 长安街道.
    changan = await org_id(web_app, "长安街道")
    r = await admin.post(
        f"{detail_url}/roles", {"role": "supervisor", "organization_id": str(changan)}
    )
    assert r.status_code == 303
    page = soup(await admin.get(r.headers["location"]))
    assert page.select_one(".alert-ok").get_text(strip=True) == "角色已更新。"
    assert _grants(page) == ["督办员 长安街道 撤销"]
    # The grant takes effect on the user's next request.
    assert "长安街道概况" in (await newcomer.get("/")).text

    # Revoke.
    action = page.select_one("#user-grants form")["action"]
    r = await admin.post(action)
    assert r.status_code == 303
    page = soup(await admin.get(r.headers["location"]))
    assert _grants(page) == ["尚无角色。"]
    assert "尚未分配组织或单位" in (await newcomer.get("/")).text

    # The audit log has all three, newest first, with who did it.
    audit = soup(await admin.get("/admin/audit", params={"actor": "admin", "object_type": "user"}))
    rows = _audit_rows(audit)
    assert [r["action"] for r in rows[:3]] == [
        "user.revoke_role",
        "user.grant_role",
        "user.create",
    ]
    assert all(r["actor"] == "admin" for r in rows)
    assert "撤销 wangfang 的 督办员" in rows[0]["summary"]
    assert "授予 wangfang 督办员" in rows[1]["summary"]
    assert "role : ∅ → supervisor" in rows[1]["diff"]
    assert "display_name : ∅ → 王芳" in rows[2]["diff"]
    # Filtered by object type, the login entries (also object type "user") are by other actors.
    assert audit.select_one("#f-object_type option[selected]")["value"] == "user"
    assert input_value(audit, "actor") == "admin"


async def test_audit_log_filters_by_actor_object_and_date(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    admin, secretary = new_browser(), new_browser()
    await admin.login("admin")
    await secretary.login("secretary")
    street = await org_id(web_app, "新华街道")
    r = await secretary.post(
        "/units",
        {
            "name": "审计测试单位",
            "kind": "stationed",
            "unit_type": "other",
            "street_id": str(street),
        },
    )
    assert r.status_code == 303

    async def rows(**params: str) -> list[dict[str, str]]:
        r = await admin.get("/admin/audit", params=params)
        assert r.status_code == 200
        return _audit_rows(soup(r))

    by_secretary = await rows(actor="secretary")
    assert {r["action"] for r in by_secretary} == {"auth.login", "unit.create"}
    units = await rows(object_type="unit")
    assert [r["action"] for r in units] == ["unit.create"]
    assert units[0]["actor"] == "secretary"
    assert "新增单位 审计测试单位" in units[0]["summary"]
    assert await rows(actor="secretary", object_type="organization") == []

    today = datetime.now(BEIJING).date()
    todays = await rows(date_from=today.isoformat(), date_to=today.isoformat())
    assert {"unit.create", "auth.login", "demo.seed"} <= {r["action"] for r in todays}
    assert all(r["at"].startswith(today.isoformat()) for r in todays)

    yesterday = (today - timedelta(days=1)).isoformat()
    r = await admin.get("/admin/audit", params={"date_to": yesterday})
    doc = soup(r)
    assert _audit_rows(doc) == []
    assert doc.select_one("#audit .empty").get_text(strip=True) == "没有符合条件的记录。"
    assert "共 0 条" in doc.get_text()
    assert input_value(doc, "date_to") == yesterday

    # A malformed date is pointed out, not an error page.
    r = await admin.get("/admin/audit", params={"date_from": "2026-13-45"})
    assert r.status_code == 200
    assert field_error(soup(r), "date_from") == "日期格式应为 YYYY-MM-DD。"

    # The filter form asks htmx for the table only.
    r = await admin.get(
        "/admin/audit", params={"object_type": "unit"}, headers={"HX-Request": "true"}
    )
    assert "<html" not in r.text.lower()
    assert soup(r).select_one("form.filters") is None
    assert [row["action"] for row in _audit_rows(soup(r))] == ["unit.create"]


async def test_create_user_with_errors_keeps_input_but_not_the_password(
    web_app: Starlette, browser: Browser
) -> None:
    await browser.login("admin")
    users = await count(web_app, User)
    r = await browser.post(
        "/admin/users",
        {"username": "secretary", "display_name": "", "phone": "abc", "password": "12345678"},
    )
    assert r.status_code == 400
    doc = soup(r)
    assert field_error(doc, "username") == "用户名已被使用。"
    assert field_error(doc, "display_name") == "请填写姓名。"
    assert field_error(doc, "phone") == "电话格式不正确。"
    assert "字母和数字" in field_error(doc, "password")
    assert input_value(doc, "username") == "secretary"
    assert input_value(doc, "phone") == "abc"
    assert input_value(doc, "password") == ""
    assert "12345678" not in r.text
    assert await count(web_app, User) == users


async def test_grant_with_the_wrong_scope_is_explained(
    web_app: Starlette, browser: Browser
) -> None:
    await browser.login("admin")
    users = soup(await browser.get("/admin/users?q=member"))
    url = users.select_one("#users tbody a")["href"]
    district = await org_id(web_app, "和平区")

    r = await browser.post(
        f"{url}/roles", {"role": "street_secretary", "organization_id": str(district)}
    )
    assert r.status_code == 400
    doc = soup(r)
    assert "街道书记（召集人）须指定一个街道" in field_error(doc, "organization_id")
    assert doc.select_one("#f-role option[selected]")["value"] == "street_secretary"
    assert _grants(doc) == ["在职党员 文化里社区 撤销"]


async def test_admin_cannot_revoke_their_own_admin_role(browser: Browser) -> None:
    await browser.login("admin")
    users = soup(await browser.get("/admin/users?q=admin"))
    url = next(a["href"] for a in users.select("#users tbody a") if a.get_text() == "admin")
    page = soup(await browser.get(url))
    r = await browser.post(page.select_one("#user-grants form")["action"])
    assert r.status_code == 400
    assert "不能撤销自己的管理员角色" in flash_text(r)
    assert _grants(soup(r)) == ["平台管理员 全平台 撤销"]


async def test_org_with_a_parent_of_the_wrong_level_is_refused(
    web_app: Starlette, browser: Browser
) -> None:
    await browser.login("admin")
    district = await org_id(web_app, "和平区")
    orgs = await count(web_app, Organization)

    r = await browser.post(
        "/admin/orgs", {"name": "幸福里社区", "level": "community", "parent_id": str(district)}
    )

    assert r.status_code == 400
    doc = soup(r)
    assert field_error(doc, "parent_id") == "请选择上级街道。"
    assert input_value(doc, "name") == "幸福里社区"
    assert doc.select_one("#f-level option[selected]")["value"] == "community"
    assert doc.select_one("#f-parent_id option[selected]")["value"] == str(district)
    assert await count(web_app, Organization) == orgs

    # With the right parent it is created and appears in the tree.
    r = await browser.post(
        "/admin/orgs",
        {
            "name": "幸福里社区",
            "level": "community",
            "parent_id": str(await org_id(web_app, "新华街道")),
            "code": "BJ-HP-01-04",
        },
    )
    assert r.status_code == 303
    tree = soup(await browser.get(r.headers["location"]))
    assert any("幸福里社区" in li.get_text() for li in tree.select("ul.tree li.depth-3"))


async def test_org_code_must_be_unique_and_a_city_has_no_parent(
    web_app: Starlette, browser: Browser
) -> None:
    await browser.login("admin")
    r = await browser.post(
        "/admin/orgs",
        {
            "name": "江北市",
            "level": "city",
            "parent_id": str(await org_id(web_app, "滨江市")),
            "code": "BJ",
        },
    )
    assert r.status_code == 400
    doc = soup(r)
    assert field_error(doc, "parent_id") == "市级组织没有上级。"
    assert field_error(doc, "code") == "编码已被其他组织使用。"


async def test_disabling_a_user_ends_their_sessions_and_stops_logins(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    admin, victim = new_browser(), new_browser()
    await admin.login("admin")
    await victim.login("dept")
    assert (await victim.get("/")).status_code == 200
    url = f"/admin/users/{await user_id(web_app, 'dept')}"
    page = soup(await admin.get(url))
    form = {
        "display_name": input_value(page, "display_name"),
        "phone": input_value(page, "phone"),
        "version": input_value(page, "version"),
    }  # "active" unticked

    r = await admin.post(url, form)
    assert r.status_code == 303
    page = soup(await admin.get(r.headers["location"]))
    assert page.select_one('input[name="active"]').get("checked") is None

    assert (await victim.get("/")).status_code == 303
    r = await new_browser().login("dept")
    assert r.status_code == 400
    assert "该账号已停用" in flash_text(r)
    users = soup(await admin.get("/admin/users?q=dept"))
    assert users.select_one("#users tbody .tag-grey").get_text() == "停用"


async def test_admin_cannot_disable_themselves(web_app: Starlette, browser: Browser) -> None:
    await browser.login("admin")
    url = f"/admin/users/{await user_id(web_app, 'admin')}"
    page = soup(await browser.get(url))
    r = await browser.post(
        url,
        {"display_name": "平台管理员", "phone": "", "version": input_value(page, "version")},
    )
    assert r.status_code == 400
    assert field_error(soup(r), "active") == "不能停用自己的账号。"
    assert (await browser.get("/")).status_code == 200


async def test_password_reset_by_admin_logs_the_user_out(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    admin, user = new_browser(), new_browser()
    await admin.login("admin")
    await user.login("community")
    url = f"/admin/users/{await user_id(web_app, 'community')}/password"

    r = await admin.post(url, {"password": "short"})
    assert r.status_code == 400
    assert "至少 8 位" in field_error(soup(r), "password")
    assert (await user.get("/")).status_code == 200

    r = await admin.post(url, {"password": "Reset-pass-2026"})
    assert r.status_code == 303
    page = soup(await admin.get(r.headers["location"]))
    assert "密码已重置" in page.select_one(".alert-ok").get_text()
    assert (await user.get("/")).status_code == 303
    assert (await new_browser().login("community", "Reset-pass-2026")).status_code == 303
