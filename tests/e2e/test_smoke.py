from tests.conftest import Browser, soup


async def test_secretary_logs_in_and_sees_dashboard(browser: Browser) -> None:
    r = await browser.login("secretary")
    assert r.status_code == 303, r.text
    page = await browser.get("/")
    assert page.status_code == 200
    doc = soup(page)
    assert "张秀兰" in doc.select_one(".whoami").get_text()
    assert "新华街道概况" in doc.get_text()
