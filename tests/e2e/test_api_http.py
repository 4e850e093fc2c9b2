"""The JSON API through the whole app (middleware included): bearer tokens, every endpoint,
the one error shape, and the OpenAPI document matching what the endpoints answer."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from starlette.applications import Starlette

from domain.models import Task
from domain.services import api_tokens
from domain.uow import UnitOfWork
from tests.conftest import Browser
from tests.e2e.api_support import api_client, assert_error, issue_token, schema_errors
from tests.e2e.support import count, count_statements, unit_id

TASKS = "/api/v1/tasks"


def order(external_id: str = "GD-1", **extra: Any) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "title": "春晖路路灯不亮",
        "description": "晚上九点后整条路没有照明。",
        "location": "春晖路 3 号附近",
        "street": "新华街道",
        **extra,
    }


@pytest.fixture
async def secret(web_app: Starlette) -> str:
    return await issue_token(web_app)


@pytest.fixture
async def api(web_app: Starlette, secret: str):  # type: ignore[no-untyped-def]
    async with api_client(web_app, secret) as client:
        yield client


@pytest.fixture
async def spec(web_app: Starlette) -> dict[str, Any]:
    async with api_client(web_app, None) as client:
        response = await client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    doc: dict[str, Any] = response.json()
    return doc


def schema(doc: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = doc["components"]["schemas"][name]
    return found


async def test_every_endpoint_wants_a_live_bearer_token(web_app: Starlette, secret: str) -> None:
    calls = [("POST", TASKS, order()), ("GET", TASKS, None), ("GET", f"{TASKS}/1", None)]
    async with UnitOfWork(web_app.state.session_factory) as uow:
        revoked = await api_tokens.create_token(uow, "旧令牌")
        await uow.commit()
    async with UnitOfWork(web_app.state.session_factory) as uow:
        await api_tokens.revoke_token(uow, "旧令牌")
        await uow.commit()
    for method, url, body in calls:
        for header in [
            None,
            "",
            "Basic dXNlcjpwYXNz",
            f"Bearer {secret}x",
            "Bearer ",
            f"Bearer {revoked.secret}",
            "Bearer " + "a" * 5000,
        ]:
            async with api_client(web_app, None) as client:
                headers = {"Authorization": header} if header is not None else {}
                response = await client.request(method, url, json=body, headers=headers)
            error = assert_error(response, 401, "unauthorized")
            challenge = response.headers["www-authenticate"]
            assert challenge.startswith('Bearer realm="gongjian"')
            if header:
                assert 'error="invalid_token"' in challenge
                assert error["message"] == "接口令牌无效或已被吊销。"
            else:
                assert "Authorization: Bearer" in error["message"]
    assert await count(web_app, Task) == 0

    # The same requests with the live token pass the gate (scheme in any case).
    async with api_client(web_app, None) as client:
        ok = await client.get(TASKS, headers={"Authorization": f"bearer {secret}"})
    assert ok.status_code == 200


async def test_create_then_retry_then_read(
    web_app: Starlette, api: Any, spec: dict[str, Any]
) -> None:
    lead = await unit_id(web_app, "区城管执法局新华街道执法队")
    created = await api.post(TASKS, json=order(lead_unit_id=lead, limit={"value": 3}))
    assert created.status_code == 201, created.text
    task = created.json()
    assert created.headers["location"] == f"{TASKS}/{task['id']}"
    assert created.headers["cache-control"] == "no-store"
    assert task["state"] == "assigned" and task["external_id"] == "GD-1"
    assert task["lead"]["unit"]["id"] == lead
    assert task["limit"] == {"value": 3, "unit": "working_days", "label": "3个工作日"}
    # The JSON is what the document says a Task is: the same keys, valid values.
    assert set(task) == set(schema(spec, "Task")["properties"])
    assert schema_errors(task, schema(spec, "Task"), spec) == []

    again = await api.post(TASKS, json=order(title="另一个标题"))
    assert again.status_code == 200
    assert again.json()["id"] == task["id"] and again.json()["title"] == "春晖路路灯不亮"
    assert again.headers["location"] == created.headers["location"]
    assert await count(web_app, Task) == 1

    one = await api.get(created.headers["location"])
    assert one.status_code == 200
    detail = one.json()
    assert schema_errors(detail, schema(spec, "TaskDetail"), spec) == []
    assert [e["action"] for e in detail["timeline"]] == ["create", "assign"]
    assert detail["timeline"][1]["to_state"] == "assigned"
    assert {k: v for k, v in detail.items() if k != "timeline"} == task

    page = await api.get(TASKS)
    assert page.status_code == 200
    assert schema_errors(page.json(), schema(spec, "TaskPage"), spec) == []
    assert [t["id"] for t in page.json()["items"]] == [task["id"]]
    assert page.json()["next_cursor"] is None


async def test_draft_when_no_lead_is_given(api: Any, spec: dict[str, Any]) -> None:
    response = await api.post(
        TASKS,
        content='{"external_id": "GD-2", "title": "噪音扰民", "street": "新华街道"}'.encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["state"], body["state_label"]) == ("drafted", "草稿")
    assert body["lead"] is None and body["assisting"] == [] and body["deadline"] is None
    assert body["assigner"]["name"] == "新华街道办事处"
    assert schema_errors(body, schema(spec, "Task"), spec) == []


async def test_list_pages_with_updated_since_and_cursor(api: Any) -> None:
    ids = []
    for i in range(5):
        response = await api.post(TASKS, json=order(f"P-{i}"))
        assert response.status_code == 201
        ids.append(response.json()["id"])
    first = (await api.get(TASKS, params={"limit": "2"})).json()
    since = first["items"][0]["updated_at"]
    seen: list[int] = []
    params = {"limit": "2", "updated_since": since}
    while True:
        page = await api.get(TASKS, params=params)
        assert page.status_code == 200, page.text
        seen += [t["id"] for t in page.json()["items"]]
        if page.json()["next_cursor"] is None:
            break
        params = {"limit": "2", "cursor": page.json()["next_cursor"]}
    assert seen == ids

    # A `+` left unencoded in the offset arrives as a space, and still works.
    local = "2000-01-01T08:00:00 08:00"
    everything = await api.get(f"{TASKS}?updated_since={local}")
    assert everything.status_code == 200
    assert [t["id"] for t in everything.json()["items"]] == ids
    late = await api.get(TASKS, params={"updated_since": "2999-01-01T00:00:00Z"})
    assert late.json() == {"items": [], "next_cursor": None}


async def test_query_mistakes_are_named(api: Any) -> None:
    cases: list[tuple[str, set[str]]] = [
        ("limit=0", {"limit"}),
        ("limit=201", {"limit"}),
        ("limit=abc", {"limit"}),
        ("limit=99999999999999999999999", {"limit"}),
        ("limit=%EF%BC%95", {"limit"}),  # a full-width digit
        ("limit=1&limit=2", {"limit"}),
        ("updated_since=yesterday", {"updated_since"}),
        ("updated_since=2026-02-30T00:00:00Z", {"updated_since"}),
        ("cursor=%00%FF", {"cursor"}),
        ("cursor=bm90LWEtY3Vyc29y", {"cursor"}),
        ("page=2&since=x", {"page", "since"}),
        ("%00=1", {"\x00"}),
    ]
    for query, fields in cases:
        response = await api.get(f"{TASKS}?{query}")
        error = assert_error(response, 400, "bad_request")
        assert set(error["fields"]) == fields, query


async def test_body_mistakes_get_the_error_shape(api: Any) -> None:
    json_header = {"Content-Type": "application/json"}
    cases: list[tuple[dict[str, str], bytes, int, str]] = [
        ({"Content-Type": "text/plain"}, b"{}", 415, "unsupported_media_type"),
        (
            {"Content-Type": "application/x-www-form-urlencoded"},
            b"a=1",
            415,
            "unsupported_media_type",
        ),
        ({}, b"", 415, "unsupported_media_type"),
        (json_header, b"", 400, "bad_request"),
        (json_header, b"{", 400, "bad_request"),
        (json_header, b"{'a': 1}", 400, "bad_request"),
        (json_header, b"\xff\xfe{}", 400, "bad_request"),
        (json_header, b'{"external_id": NaN}', 400, "bad_request"),
        (json_header, b"[" * 200_000 + b"]" * 200_000, 413, "payload_too_large"),
        (json_header, b"[" * 50_000 + b"]" * 50_000, 400, "bad_request"),
        (json_header, b"1" * 5000, 400, "bad_request"),
        (json_header, b"[]", 422, "validation_failed"),
        (json_header, b'"text"', 422, "validation_failed"),
        (json_header, b"null", 422, "validation_failed"),
        (json_header, b"{}", 422, "validation_failed"),
        (json_header, b'{"limit": 1e999}', 422, "validation_failed"),
        (json_header, b'{"title": "\\ud800", "\\udfff": 1}', 422, "validation_failed"),
        (json_header, b"{" + b'"x": 1, ' * 40_000 + b'"y": 2}', 413, "payload_too_large"),
    ]
    for headers, body, status, code in cases:
        response = await api.post(TASKS, content=body, headers=headers)
        assert_error(response, status, code)

    error = assert_error(
        await api.post(TASKS, json={"title": "", "street": 0, "colour": "red"}),
        422,
        "validation_failed",
    )
    assert set(error["fields"]) == {"external_id", "title", "street", "colour"}
    assert error["fields"]["title"] == "请填写任务标题（不超过 200 字）。"
    assert error["message"].startswith("请求内容有误：")

    surrogate = assert_error(
        await api.post(TASKS, content=b'{"\\udfff": 1}', headers=json_header),
        422,
        "validation_failed",
    )
    assert surrogate["fields"]["\\udfff"] == "不支持的字段。"


async def test_routing_errors_answer_in_json(api: Any) -> None:
    assert_error(await api.get("/api/v1/nothing-here"), 404, "not_found")
    assert_error(await api.get(f"{TASKS}/abc"), 404, "not_found")
    assert_error(await api.get(f"{TASKS}/9999999999"), 404, "not_found")
    missing = assert_error(await api.get(f"{TASKS}/424242"), 404, "not_found")
    assert missing["message"] == "任务不存在。"
    wrong = await api.delete(TASKS)
    assert_error(wrong, 405, "method_not_allowed")
    assert "GET" in wrong.headers["allow"] and "POST" in wrong.headers["allow"]
    assert_error(await api.put(f"{TASKS}/1", json={}), 405, "method_not_allowed")
    # Outside the mount, the app's own error handler still answers API paths in JSON.
    assert_error(await api.post("/api/v1", json={}), 403, "forbidden")


async def test_an_unexpected_failure_is_a_logged_json_500(
    api: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from domain.tasks import external_read

    async def broken(uow: Any, task_id: int) -> Task:
        raise RuntimeError("boom")

    monkeypatch.setattr(external_read, "get_task", broken)
    with caplog.at_level(logging.ERROR, logger="gongjian.api"):
        response = await api.get(f"{TASKS}/1")
    error = assert_error(response, 500, "internal_error")
    assert "boom" not in error["message"]
    assert any("boom" in str(r.exc_info) for r in caplog.records)


async def test_api_skips_csrf_and_ignores_the_session_cookie(
    web_app: Starlette, browser: Browser, secret: str
) -> None:
    await browser.login("secretary")
    # A logged-in browser's cookies are no API credential.
    response = await browser.client.post(TASKS, json=order())
    assert_error(response, 401, "unauthorized")
    # With a token, no CSRF token is asked for, and no CSRF cookie is handed out.
    response = await browser.client.post(
        TASKS, json=order(), headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 201
    assert "set-cookie" not in response.headers
    # The pages keep their CSRF check.
    page = await browser.client.post("/units", data={"name": "x"})
    assert page.status_code == 403
    assert page.headers["content-type"].startswith("text/html")


async def test_openapi_document_describes_the_endpoints(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.1")
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    paths = spec["paths"]
    assert set(paths) == {TASKS, f"{TASKS}/{{task_id}}", "/api/v1/openapi.json"}
    assert set(paths[TASKS]) == {"post", "get"}
    assert set(paths[f"{TASKS}/{{task_id}}"]) == {"get"}
    assert paths["/api/v1/openapi.json"]["get"]["security"] == []
    post = paths[TASKS]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/WorkOrder"
    }
    assert {"200", "201", "401", "415", "422"} <= set(post["responses"])
    assert [p["name"] for p in paths[TASKS]["get"]["parameters"]] == [
        "updated_since",
        "cursor",
        "limit",
    ]
    # Every reference resolves.
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "$ref" in node:
                refs.append(node["$ref"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(spec)
    assert refs
    for ref in refs:
        target: Any = spec
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        assert isinstance(target, dict)
    # The request schema accepts exactly the fields the service reads.
    from domain.tasks.external import FIELDS

    assert set(schema(spec, "WorkOrder")["properties"]) == FIELDS
    # Error bodies as the document says.
    error_codes = set(schema(spec, "Error")["properties"]["error"]["properties"]["code"]["enum"])
    assert {"validation_failed", "unauthorized", "not_found", "bad_request"} <= error_codes
    sample = {"error": {"code": "not_found", "message": "任务不存在。", "fields": {}}}
    assert schema_errors(sample, schema(spec, "Error"), spec) == []
    assert schema_errors({"error": {"code": "x"}}, schema(spec, "Error"), spec) != []


async def test_list_and_read_run_a_fixed_number_of_statements(web_app: Starlette, api: Any) -> None:
    lead = await unit_id(web_app, "区城管执法局新华街道执法队")
    assist = await unit_id(web_app, "区市场监督管理局新华市场监管所")

    async def statements(url: str) -> int:
        await api.get(url)  # warm-up
        with count_statements(web_app) as seen:
            response = await api.get(url)
        assert response.status_code == 200
        return len(seen)

    async def add(n: int, start: int) -> int:
        last = 0
        for i in range(start, start + n):
            body = order(f"N-{i}", lead_unit_id=lead, assisting_unit_ids=[assist])
            response = await api.post(TASKS, json=body)
            assert response.status_code == 201
            last = response.json()["id"]
        return last

    first = await add(2, 0)
    few, one_few = await statements(TASKS), await statements(f"{TASKS}/{first}")
    latest = await add(20, 2)
    many, one_many = await statements(TASKS), await statements(f"{TASKS}/{latest}")
    assert many == few <= 8
    assert one_many == one_few <= 8
