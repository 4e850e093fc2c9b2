"""Helpers for the API tests: a token, a JSON client, and a small JSON Schema checker
for the OpenAPI document's schemas (the subset the document uses)."""

from __future__ import annotations

import re
from typing import Any

import httpx
from starlette.applications import Starlette

from domain.services import api_tokens
from domain.uow import UnitOfWork

JSON_TYPES: dict[str, Any] = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
}
MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


async def issue_token(app: Starlette, name: str = "12345热线") -> str:
    async with UnitOfWork(app.state.session_factory) as uow:
        issued = await api_tokens.create_token(uow, name)
        await uow.commit()
    return issued.secret


def api_client(app: Starlette, secret: str | None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 50001)),
        base_url="http://testserver",
        headers=headers,
    )


def _is_type(value: Any, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, JSON_TYPES[name])


def schema_errors(
    value: Any, schema: dict[str, Any], doc: dict[str, Any], at: str = "$"
) -> list[str]:
    """Where `value` breaks `schema` (resolving `#/…` references in `doc`)."""
    if "$ref" in schema:
        target: Any = doc
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return schema_errors(value, target, doc, at)
    errors: list[str] = []
    if "anyOf" in schema and not any(not schema_errors(value, s, doc, at) for s in schema["anyOf"]):
        errors.append(f"{at}: matches no anyOf branch")
    if "oneOf" in schema:
        matching = sum(not schema_errors(value, s, doc, at) for s in schema["oneOf"])
        if matching != 1:
            errors.append(f"{at}: matches {matching} oneOf branches")
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is_type(value, n) for n in names):
            return [*errors, f"{at}: {value!r} is not {names}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{at}: {value!r} not in enum")
    if (
        schema.get("format") == "date-time"
        and isinstance(value, str)
        and not MOMENT.fullmatch(value)
    ):
        errors.append(f"{at}: {value!r} is not a date-time")
    if isinstance(value, str):
        if len(value) > schema.get("maxLength", len(value)):
            errors.append(f"{at}: too long")
        if len(value) < schema.get("minLength", 0):
            errors.append(f"{at}: too short")
    if _is_type(value, "number"):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{at}: below minimum")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{at}: above maximum")
    if isinstance(value, list):
        if len(value) > schema.get("maxItems", len(value)):
            errors.append(f"{at}: too many items")
        for i, item in enumerate(value):
            errors += schema_errors(item, schema.get("items", {}), doc, f"{at}[{i}]")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                errors.append(f"{at}: missing {key}")
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in props:
                errors += schema_errors(item, props[key], doc, f"{at}.{key}")
            elif extra is False:
                errors.append(f"{at}: unexpected {key}")
            elif isinstance(extra, dict):
                errors += schema_errors(item, extra, doc, f"{at}.{key}")
    return errors


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The one error shape, with this status and code; returns the `error` object."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["fields"], dict)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in error["fields"].items())
    return dict(error)
