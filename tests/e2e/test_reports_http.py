"""述职报告 over HTTP: the landing, drafting, editing with a stale form, choosing between
texts, submitting, printing, the .docx, and who is refused."""

from __future__ import annotations

import io

from docx import Document

from tests.conftest import soup
from tests.e2e.support import org_id

YEAR = 2025


async def test_draft_edit_conflict_submit(web_app, new_browser) -> None:  # type: ignore[no-untyped-def]
    street = await org_id(web_app, "新华街道")
    base = f"/reports/{street}/{YEAR}"
    secretary = new_browser()
    await secretary.login("secretary")

    landing = await secretary.get(f"/reports?year={YEAR}")
    assert landing.status_code == 200
    own = soup(landing).select_one("#my-reports")
    assert own is not None and "未起草" in own.text
    assert soup(landing).select_one("#report-list[data-live-region]") is not None
    assert "文化里社区" in soup(landing).select_one("#scope-reports").text

    empty = await secretary.get(base)
    assert empty.status_code == 200 and soup(empty).select_one("#create-report") is not None
    made = await secretary.post(base + "/create")
    assert made.status_code == 303
    page = await secretary.get(made.headers["location"])
    doc = soup(page)
    assert "已根据平台记录生成述职报告草稿" in page.text
    assert doc.select_one("#report-page[data-live-region]") is not None
    assert doc.select_one("#f-title")["value"] == "新华街道党组织书记2025年度抓基层党建工作述职报告"
    titles = [h.text for h in doc.select(".rp-section h2")]
    assert titles[0] == "一、基本情况" and titles[-1].endswith("存在问题和下步打算")
    assert "本年度未召开党建联席会议" in doc.select_one("#f-conference").text
    version = doc.select_one('#report-form input[name="version"]')["value"]
    form = {"version": version, "title": "我的述职报告"}
    form |= {t["name"]: t.text for t in doc.select("#report-form textarea")}
    form["body_problems"] = "一是……二是……"

    # An empty title: 400, Chinese message, the author's text kept.
    bad = await secretary.post(base + "/save", {**form, "title": ""})
    assert bad.status_code == 400
    assert "请填写报告标题" in bad.text
    assert soup(bad).select_one("#f-problems").text == "一是……二是……"

    saved = await secretary.post(base + "/save", form)
    assert saved.status_code == 303
    # The same form again (another window): 409, nothing overwritten, input kept.
    stale = await secretary.post(base + "/save", {**form, "body_problems": "旧窗口的文字"})
    assert stale.status_code == 409
    assert "已被修改" in stale.text
    assert soup(stale).select_one("#f-problems").text == "旧窗口的文字"
    current = soup(await secretary.get(base))
    assert current.select_one("#f-problems").text == "一是……二是……"

    # Other people cannot write it; a community secretary cannot read it.
    district = new_browser()
    await district.login("district")
    assert (await district.get(base)).status_code == 200
    assert (await district.post(base + "/save", form)).status_code == 403
    community = new_browser()
    await community.login("community")
    assert (await community.get(base)).status_code == 403

    version = current.select_one('#report-form input[name="version"]')["value"]
    regen = await secretary.post(base + "/regenerate", {"version": version})
    assert regen.status_code == 303
    version = soup(await secretary.get(base)).select_one('input[name="version"]')["value"]
    done = await secretary.post(base + "/submit", {"version": version})
    assert done.status_code == 303
    after = soup(await secretary.get(done.headers["location"]))
    assert after.select_one("#report-state").text == "已提交"
    assert after.select_one("#report-form") is None
    assert "一是……二是……" in after.select_one("#section-problems").text
    notes = await district.get("/notifications")
    assert "新华街道提交了2025年度述职报告" in notes.text

    printed = await district.get(base + "/print")
    assert printed.status_code == 200
    assert soup(printed).select_one(".print-title").text == "我的述职报告"
    word = await district.get(base + ".docx")
    assert word.status_code == 200
    assert word.headers["content-type"].startswith("application/vnd.openxmlformats")
    texts = [p.text for p in Document(io.BytesIO(word.content)).paragraphs]
    assert texts[0] == "我的述职报告" and "一是……二是……" in texts


async def test_choose_between_texts(web_app, new_browser) -> None:  # type: ignore[no-untyped-def]
    org = await org_id(web_app, "文化里社区")
    base = f"/reports/{org}/{YEAR}"
    author = new_browser()
    await author.login("community")
    await author.post(base + "/create")
    doc = soup(await author.get(base))
    form = {t["name"]: t.text for t in doc.select("#report-form textarea")}
    form |= {"version": doc.select_one('input[name="version"]')["value"], "title": "社区述职"}
    form["body_sharing"] = "我改写的资源共享。"
    await author.post(base + "/save", form)
    # Records change so that regenerating writes a different sharing text.
    from datetime import UTC, datetime

    from sqlalchemy import select

    from domain.models import Unit
    from domain.models.sharing import Need

    async with web_app.state.session_factory() as s:
        unit = await s.scalar(select(Unit.id).where(Unit.name == "文化里社区居委会"))
        s.add(
            Need(
                street_id=await org_id(web_app, "新华街道"),
                community_id=org,
                poster_unit_id=unit,
                category="elderly",
                title="助老",
                created_at=datetime(YEAR, 5, 1, tzinfo=UTC),
            )
        )
        await s.commit()
    version = soup(await author.get(base)).select_one('input[name="version"]')["value"]
    regen = await author.post(base + "/regenerate", {"version": version})
    page = await author.get(regen.headers["location"])
    doc = soup(page)
    assert doc.select_one("#offered") is not None
    choice = doc.select_one("#choice-sharing")
    assert choice is not None and "新增需求1条" in choice.text
    assert doc.select_one("#f-sharing").text == "我改写的资源共享。"
    version = doc.select_one('#report-form input[name="version"]')["value"]
    kept = await author.post(base + "/choose", {"version": version, "key": "sharing", "use": "new"})
    assert kept.status_code == 303
    doc = soup(await author.get(base))
    assert doc.select_one("#choice-sharing") is None
    assert "新增需求1条" in doc.select_one("#f-sharing").text
    # The street secretary reads it; a member cannot.
    secretary = new_browser()
    await secretary.login("secretary")
    read = await secretary.get(base)
    assert read.status_code == 200 and soup(read).select_one("#report-form") is None
    member = new_browser()
    await member.login("member")
    assert (await member.get(base)).status_code == 403
    landing = await member.get("/reports")
    assert "您当前没有需要撰写或查阅的述职报告" in landing.text
