"""Property: whatever a client sends, the API never answers 500, and every error it answers
has the one error shape. Bodies are arbitrary JSON (and near-misses of a real work order),
query strings arbitrary text.

Synchronous on purpose: Hypothesis drives each example through one event loop of our own,
in which the app and its database connections live.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import make_config
from tests.e2e.api_support import api_client, assert_error, issue_token

TASKS = "/api/v1/tasks"
FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Any code point, and often the awkward ones: NUL (PostgreSQL refuses it), lone surrogates
# (JSON carries them as \\udxxx escapes; no database can store them), and friends.
AWKWARD = ["\x00", "\ud800", "\udfff", "\x7f", "\u2028", "\ufeff", "𝕏", " "]


def awkward_text(max_size: int) -> st.SearchStrategy[str]:
    chars = st.sampled_from(AWKWARD) | st.characters(exclude_categories=())
    return st.lists(chars, max_size=max_size).map("".join)


any_text = awkward_text(30)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | any_text
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=12,
)


# Near misses: the real field names, mostly with plausible values and sometimes with
# values of any shape, so that the checks behind the type checks (the street and unit
# look-ups, limits, timestamps, the insert itself) are reached too.
def text_or_any(max_size: int) -> st.SearchStrategy[Any]:
    return awkward_text(max_size) | json_values


required_fields = {
    "external_id": text_or_any(90),
    "title": text_or_any(210),
    "street": st.sampled_from(["新华街道", "长安街道", "和平区"])
    | st.integers(-5, 50)
    | json_values,
}
optional_fields = {
    "description": text_or_any(50),
    "location": text_or_any(50),
    "lead_unit_id": st.integers(-5, 60) | json_values,
    "assisting_unit_ids": st.lists(st.integers(-5, 60), max_size=25) | json_values,
    "limit": st.fixed_dictionaries(
        {},
        optional={
            "value": st.integers(-10, 2000) | json_values,
            "unit": st.sampled_from(["working_days", "hours", "minutes", "days"]) | json_values,
        },
    )
    | json_values,
    "called_at": st.sampled_from(["2026-11-29T08:00:00+08:00", "2026-02-30", "Z"])
    | text_or_any(40),
    "caller_name": text_or_any(60),
    "caller_phone": text_or_any(40),
}
orders = st.fixed_dictionaries(required_fields, optional=optional_fields)


def check(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert_error(response, response.status_code, response.json()["error"]["code"])
    elif response.status_code < 300:
        assert isinstance(response.json(), dict)


@pytest.fixture
def api(sqlite_url: str) -> Iterator[tuple[asyncio.Runner, httpx.AsyncClient]]:
    from gongjian.demo import seed_demo
    from web.app import create_app

    with asyncio.Runner() as runner:
        app = create_app(make_config(sqlite_url), run_jobs=False)
        runner.run(seed_demo(app.state.session_factory))
        secret = runner.run(issue_token(app))
        client = api_client(app, secret)
        try:
            yield runner, client
        finally:
            runner.run(client.aclose())
            runner.run(app.state.engine.dispose())


def test_any_json_body_gets_an_answer_in_shape(
    api: tuple[asyncio.Runner, httpx.AsyncClient],
) -> None:
    runner, client = api

    @FUZZ
    @given(body=json_values | orders)
    def post(body: Any) -> None:
        content = json.dumps(body).encode()  # ASCII, with surrogates escaped
        headers = {"Content-Type": "application/json"}
        check(runner.run(client.post(TASKS, content=content, headers=headers)))

    post()


def test_any_bytes_and_content_type_get_an_answer_in_shape(
    api: tuple[asyncio.Runner, httpx.AsyncClient],
) -> None:
    runner, client = api

    @FUZZ
    @given(
        body=st.binary(max_size=200) | st.text(max_size=200).map(str.encode),
        content_type=st.sampled_from(["application/json", "application/problem+json", "text/plain"])
        | st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
    )
    def post(body: bytes, content_type: str) -> None:
        headers = {"Content-Type": content_type}
        check(runner.run(client.post(TASKS, content=body, headers=headers)))

    post()


def test_any_query_string_gets_an_answer_in_shape(
    api: tuple[asyncio.Runner, httpx.AsyncClient],
) -> None:
    runner, client = api
    keys = st.sampled_from(["updated_since", "cursor", "limit"]) | st.text(max_size=10)
    values = (
        st.sampled_from(["2026-11-29T08:00:00+08:00", "2026-11-29", "0", "200", "201", "-1"])
        | st.integers(-(10**30), 10**30).map(str)
        | st.text(max_size=40)
    )

    url_text = st.text(
        st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="#"), max_size=30
    )

    @FUZZ
    @given(pairs=st.lists(st.tuples(keys, values), max_size=4), raw=url_text)
    def get(pairs: list[tuple[str, str]], raw: str) -> None:
        query = "&".join(f"{quote(k)}={quote(v)}" for k, v in pairs)
        check(runner.run(client.get(f"{TASKS}?{query}")))
        # Unencoded too: whatever bytes the URL carries.
        check(runner.run(client.get(f"{TASKS}?{raw}")))

    get()


def test_any_path_below_the_api_gets_an_answer_in_shape(
    api: tuple[asyncio.Runner, httpx.AsyncClient],
) -> None:
    runner, client = api

    @FUZZ
    @given(
        tail=st.text(max_size=20),
        method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]),
    )
    def call(tail: str, method: str) -> None:
        url = f"{TASKS}/{quote(tail, safe='/')}"
        check(runner.run(client.request(method, url, content=json.dumps({"a": tail}))))

    call()
