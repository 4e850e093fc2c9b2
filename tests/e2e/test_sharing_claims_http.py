"""Two-way claiming through HTTP: the hospital claims the community's listed need with the
form on the need's page (CSRF), the community accepts, the project page shows both
parties; a bad form keeps what was typed; the project list, report and workbook show it."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from openpyxl import load_workbook
from starlette.applications import Starlette

from tests.conftest import Browser, soup
from tests.e2e.support import org_id

NewBrowser = Callable[[], Browser]


NEED = {
    "title": "社区老年人健康讲座",
    "category": "为老服务",
    "description": "为 60 岁以上老人开展慢病防治讲座。",
    "beneficiaries": "社区老年居民",
    "beneficiary_count": "80",
}


async def _listed_need(community: Browser, secretary: Browser, street: int) -> int:
    r = await community.post(f"/needs?street={street}", NEED)
    assert r.status_code == 303, r.text[:500]
    m = re.search(r"/needs/(\d+)", r.headers["location"])
    assert m
    need_id = int(m.group(1))
    page = soup(await secretary.get(f"/needs/{need_id}"))
    version = page.select_one('#vet-form input[name="version"]')["value"]  # type: ignore[index]
    r = await secretary.post(
        f"/needs/{need_id}/vet", {"version": str(version), "decision": "approve"}
    )
    assert r.status_code == 303
    return need_id


async def test_claim_accept_and_follow_the_project(
    web_app: Starlette, new_browser: NewBrowser
) -> None:
    street = await org_id(web_app, "新华街道")
    liaison, community, liaison2 = new_browser(), new_browser(), new_browser()
    secretary = new_browser()
    for browser, name in ((liaison, "liaison"), (community, "community"),
                          (liaison2, "liaison2"), (secretary, "secretary")):  # fmt: skip
        await browser.login(name)
    need_id = await _listed_need(community, secretary, street)

    # The claim form on the need's page, with its CSRF token.
    page = soup(await liaison.get(f"/needs/{need_id}"))
    form = page.select_one("#claim-form")
    assert form is not None
    assert form["action"] == f"/needs/{need_id}/claim"
    token = form.select_one('input[name="csrf_token"]')
    assert token is not None and token["value"]
    # Without the token the post is refused.
    r = await liaison.client.post(f"/needs/{need_id}/claim", data={"message": "x"})
    assert r.status_code == 403
    # Too long a message: 400, the message, and what was typed stays.
    long = "医" * 1001
    r = await liaison.post(
        f"/needs/{need_id}/claim", {"csrf_token": str(token["value"]), "message": long}
    )
    assert r.status_code == 400 and "留言不能超过 1000 个字" in r.text
    assert soup(r).select_one("#f-claim-message").get_text() == long  # type: ignore[union-attr]
    r = await liaison.post(
        f"/needs/{need_id}/claim",
        {"csrf_token": str(token["value"]), "message": "我院可每季度派医生。"},
    )
    assert r.status_code == 303, r.text[:500]
    # Twice: refused with a Chinese message.
    r = await liaison.post(f"/needs/{need_id}/claim", {"message": "再来一次"})
    assert r.status_code == 409 and "请勿重复提交" in r.text

    # The community sees the claim on the need page and on /claims; a bystander sees none.
    page = soup(await community.get(f"/needs/{need_id}"))
    row = page.select_one("#claim-box .claim-row")
    assert row is not None and "和平区人民医院" in row.get_text()
    assert soup(await liaison2.get(f"/needs/{need_id}")).select_one(".claim-row") is None
    claims_page = soup(await community.get("/claims"))
    decline = claims_page.select_one('form[action$="/decline"]')
    assert decline is not None
    # Declining without a reason: 400 with the message, nothing changed.
    version = decline.select_one('input[name="version"]')["value"]  # type: ignore[index]
    r = await community.post(str(decline["action"]), {"version": str(version), "reason": ""})
    assert r.status_code == 400 and "请填写婉拒的原因" in r.text

    accept = claims_page.select_one('form[action$="/accept"]')
    assert accept is not None
    r = await community.post(str(accept["action"]), {"version": str(version)})
    assert r.status_code == 303
    m = re.search(r"/projects/(\d+)", r.headers["location"])
    assert m
    project = f"/projects/{m.group(1)}"

    page = soup(await liaison.get(project))
    assert "健康讲座" in page.select_one("h1").get_text()  # type: ignore[union-attr]
    assert page.select_one("#project-requester").get_text() == "文化里社区居委会"  # type: ignore[union-attr]
    assert page.select_one("#project-provider").get_text() == "和平区人民医院"  # type: ignore[union-attr]
    assert page.select_one("#complete-form") is not None  # the provider completes
    assert soup(await community.get(project)).select_one("#complete-form") is None

    # Agreement without commitments: 400, typed number stays.
    version = page.select_one('#agreement-form input[name="version"]')["value"]  # type: ignore[index]
    r = await liaison.post(
        f"{project}/agreement", {"version": str(version), "agreement_no": "GJ-001"}
    )
    assert r.status_code == 400 and "请填写双方承诺事项" in r.text
    assert soup(r).select_one("#f-no")["value"] == "GJ-001"  # type: ignore[index]
    r = await liaison.post(
        f"{project}/agreement",
        {"version": str(version), "agreement_no": "GJ-001", "agreement_terms": "每季度一次讲座"},
    )
    assert r.status_code == 303
    # Stale version: refused.
    r = await liaison.post(
        f"{project}/update", {"version": str(version), "text": "已办一次", "percent": "30"}
    )
    assert r.status_code == 409
    assert "每季度一次讲座" in (await community.get(project)).text

    listing = soup(await community.get(f"/streets/{street}/projects"))
    assert "健康讲座" in listing.select_one("#project-list").get_text()  # type: ignore[union-attr]
    report = soup(await community.get(f"/streets/{street}/projects/report"))
    assert "共建项目报告" in report.get_text()
    r = await community.get(f"/streets/{street}/lists.xlsx")
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames[-1] == "项目清单"
    cells = [str(c.value) for row in wb["项目清单"].iter_rows() for c in row]
    assert any("健康讲座" in c for c in cells) and any("GJ-001" in c for c in cells)
