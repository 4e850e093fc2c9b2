"""The OpenAPI 3.1 document of /api/v1, written out by hand so that it says what the
code does (the end-to-end tests hold the two together)."""

from __future__ import annotations

import copy
import json
from typing import Any

from domain.enums import (
    AssigneeRole,
    AssigneeState,
    LimitUnit,
    NoticeLevel,
    Rating,
    TaskEventKind,
    TaskSource,
    TaskState,
)
from domain.tasks import external
from domain.tasks import external_read as feed
from domain.tasks.forms import MAX_ASSISTING
from web.api.errors import API_PREFIX, CODES

DEFAULT_PAGE = 50

Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def _values(enum: Any) -> list[str]:
    return [m.value for m in enum]


MOMENT: Schema = {"type": "string", "format": "date-time"}
MOMENT_OR_NULL: Schema = {"type": ["string", "null"], "format": "date-time"}


def _text(maximum: int, description: str, *, nullable: bool = True) -> Schema:
    return {
        "type": ["string", "null"] if nullable else "string",
        "maxLength": maximum,
        "description": description,
    }


WORK_ORDER: Schema = {
    "type": "object",
    "description": (
        "一张 12345 工单。同一令牌下 external_id 相同的请求只建一个任务：重复提交（即使内容不同）"
        "返回最初建立的任务（200），不会新建，也不会修改它。"
    ),
    "required": ["external_id", "title", "street"],
    "additionalProperties": False,
    "properties": {
        "external_id": {
            "type": "string",
            "minLength": 1,
            "maxLength": external.EXTERNAL_ID_MAX,
            "description": "调用方的工单编号（幂等键，首尾空白不计）。",
        },
        "title": {"type": "string", "minLength": 1, "maxLength": external.TITLE_MAX},
        "description": _text(external.DESCRIPTION_MAX, "诉求内容。"),
        "location": _text(external.LOCATION_MAX, "地点。"),
        "address": _text(external.LOCATION_MAX, "location 的别名（二者只填一个）。"),
        "street": {
            "oneOf": [
                {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                {"type": "string", "minLength": 1, "maxLength": external.STREET_NAME_MAX},
            ],
            "description": "街道编号，或街道全称（如“新华街道”）。",
        },
        "lead_unit_id": {
            "type": ["integer", "null"],
            "minimum": 1,
            "maximum": 2**31 - 1,
            "description": "主办单位（该街道的部门、驻区单位或社区）。给出则立即交办、开始计时；"
            "不给则存为草稿，由街道派单。",
        },
        "assisting_unit_ids": {
            "type": ["array", "null"],
            "maxItems": MAX_ASSISTING,
            "items": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
            "description": "协办单位（须同时给出主办单位）。",
        },
        "limit": {
            "type": ["object", "null"],
            "required": ["value"],
            "additionalProperties": False,
            "properties": {
                "value": {"type": "integer", "minimum": 1},
                "unit": {
                    "type": "string",
                    "enum": _values(LimitUnit),
                    "default": LimitUnit.WORKING_DAYS.value,
                },
            },
            "description": "办理时限：至多 90 个工作日、720 小时或 1440 分钟。"
            "不给则用该街道的 12345 工单办理时限（工作日）。",
        },
        "called_at": {
            **MOMENT_OR_NULL,
            "description": "来电时间（ISO 8601；不带时区按北京时间），记入任务内容。",
        },
        "caller_name": _text(external.CALLER_NAME_MAX, "来电人，记入任务内容。"),
        "caller_phone": _text(external.CALLER_PHONE_MAX, "联系电话，记入任务内容。"),
    },
}

REF: Schema = {
    "type": "object",
    "required": ["id", "name"],
    "additionalProperties": False,
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
}

ASSIGNEE: Schema = {
    "type": "object",
    "description": "一个承办单位（主办或协办），各有自己的签收与反馈状态。",
    "required": [
        "unit",
        "role",
        "state",
        "state_label",
        "accepted_at",
        "reported_at",
        "done_at",
        "progress_percent",
    ],
    "additionalProperties": False,
    "properties": {
        "unit": _ref("Ref"),
        "role": {"type": "string", "enum": _values(AssigneeRole)},
        "state": {"type": "string", "enum": _values(AssigneeState)},
        "state_label": {"type": "string"},
        "accepted_at": MOMENT_OR_NULL,
        "reported_at": MOMENT_OR_NULL,
        "done_at": MOMENT_OR_NULL,
        "progress_percent": {"type": "integer", "minimum": 0, "maximum": 100},
    },
}

TASK_PROPERTIES: Schema = {
    "id": {"type": "integer"},
    "ref": {"type": "string", "description": "编号，如 2026-000123。"},
    "external_id": {"type": ["string", "null"]},
    "source": {"type": "string", "enum": _values(TaskSource)},
    "source_label": {"type": "string"},
    "state": {"type": "string", "enum": _values(TaskState)},
    "state_label": {"type": "string"},
    "title": {"type": "string"},
    "description": {"type": "string"},
    "location": {"type": "string"},
    "street": _ref("Ref"),
    "assigner": {**_ref("Ref"), "description": "交办单位（街道办事处，或下派社区的部门）。"},
    "lead": _nullable(_ref("Assignee")),
    "assisting": {"type": "array", "items": _ref("Assignee")},
    "limit": {
        "type": "object",
        "required": ["value", "unit", "label"],
        "additionalProperties": False,
        "properties": {
            "value": {"type": "integer"},
            "unit": {"type": "string", "enum": _values(LimitUnit)},
            "label": {"type": "string"},
        },
    },
    "assigned_at": {**MOMENT_OR_NULL, "description": "交办时间：计时从此开始。"},
    "accept_due_at": MOMENT_OR_NULL,
    "deadline": MOMENT_OR_NULL,
    "accepted_at": MOMENT_OR_NULL,
    "reported_at": {**MOMENT_OR_NULL, "description": "办结反馈时间。"},
    "closed_at": MOMENT_OR_NULL,
    "rating": {"type": ["string", "null"], "enum": [*_values(Rating), None]},
    "rating_label": {"type": ["string", "null"]},
    "progress_percent": {"type": "integer", "minimum": 0, "maximum": 100},
    "notice_level": {"type": ["string", "null"], "enum": [*_values(NoticeLevel), None]},
    "notice_level_label": {"type": ["string", "null"]},
    "created_at": MOMENT,
    "updated_at": MOMENT,
}

TASK: Schema = {
    "type": "object",
    "required": list(TASK_PROPERTIES),
    "additionalProperties": False,
    "properties": TASK_PROPERTIES,
}

TIMELINE_EVENT: Schema = {
    "type": "object",
    "required": [
        "id",
        "at",
        "kind",
        "kind_label",
        "action",
        "actor",
        "unit",
        "from_state",
        "to_state",
        "text",
    ],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "integer"},
        "at": MOMENT,
        "kind": {"type": "string", "enum": _values(TaskEventKind)},
        "kind_label": {"type": "string"},
        "action": {"type": "string"},
        "actor": {"type": "string", "description": "操作人姓名，时钟与接口为“系统”。"},
        "unit": _nullable(_ref("Ref")),
        "from_state": {"type": ["string", "null"]},
        "to_state": {"type": ["string", "null"]},
        "text": {"type": "string"},
    },
}

TASK_DETAIL: Schema = {
    "type": "object",
    "required": [*TASK_PROPERTIES, "timeline"],
    "additionalProperties": False,
    "properties": {
        **TASK_PROPERTIES,
        "timeline": {
            "type": "array",
            "items": _ref("TimelineEvent"),
            "description": "任务全部经过，时间先后为序（只增不改）。",
        },
    },
}

TASK_PAGE: Schema = {
    "type": "object",
    "required": ["items", "next_cursor"],
    "additionalProperties": False,
    "properties": {
        "items": {"type": "array", "items": _ref("Task")},
        "next_cursor": {
            "type": ["string", "null"],
            "description": "下一页的 cursor；null 表示此刻已无更多变化。",
        },
    },
}

ERROR: Schema = {
    "type": "object",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "additionalProperties": False,
            "properties": {
                "code": {"type": "string", "enum": sorted(set(CODES.values()))},
                "message": {"type": "string", "description": "中文说明。"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                    "description": "出错的字段或查询参数 → 说明；没有则为空对象。",
                },
            },
        }
    },
}


def _json(schema: str, description: str, headers: Schema | None = None) -> Schema:
    out: Schema = {
        "description": description,
        "content": {"application/json": {"schema": _ref(schema)}},
    }
    if headers:
        out["headers"] = headers
    return out


def _errors(*statuses: int) -> dict[str, Schema]:
    return {str(s): {"$ref": f"#/components/responses/E{s}"} for s in statuses}


LOCATION: Schema = {
    "Location": {"description": "任务的地址。", "schema": {"type": "string"}},
}
ERROR_TEXT = {
    400: "请求格式有误（JSON 不合法、查询参数无效）。",
    401: "缺少令牌，或令牌无效、已吊销（带 WWW-Authenticate）。",
    404: "不存在。",
    405: "不支持的方法。",
    413: "请求体过大（超过 256 KB）。",
    415: "Content-Type 不是 JSON。",
    422: "内容无法使用（字段缺失、类型或取值不对），fields 逐项说明。",
    500: "服务器意外错误（已记录）。",
}

DOCUMENT: Schema = {
    "openapi": "3.1.0",
    "info": {
        "title": "共建 Gongjian 接口",
        "version": "1.0.0",
        "description": (
            "供外部系统（如 12345 接诉即办平台）使用。用 `gongjian api-token create --name 名称` "
            "创建令牌，在请求头中带 `Authorization: Bearer <令牌>`。令牌可读取全部任务。"
            '所有错误都是同一形状：`{"error": {"code", "message", "fields"}}`。'
        ),
    },
    "security": [{"bearerAuth": []}],
    "paths": {
        f"{API_PREFIX}/tasks": {
            "post": {
                "operationId": "createTask",
                "summary": "由 12345 工单建立任务（按 external_id 幂等）",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("WorkOrder")}},
                },
                "responses": {
                    "201": _json("Task", "已新建任务。", LOCATION),
                    "200": _json(
                        "Task", "该 external_id 已建过任务：返回原任务，不新建、不修改。", LOCATION
                    ),
                    **_errors(400, 401, 413, 415, 422, 500),
                },
            },
            "get": {
                "operationId": "listTasks",
                "summary": "按更新时间列出任务（游标分页）",
                "description": (
                    "按 (updated_at, id) 升序。同步方法：第一次用 updated_since，"
                    "随后沿 next_cursor 翻页直到它为 null；下次从所见最大的 updated_at "
                    "往前几分钟再问（任务可能重复出现，按 id 去重即可）。"
                    "分页期间又有变化的任务会在后面的页再次出现。"
                ),
                "parameters": [
                    {
                        "name": "updated_since",
                        "in": "query",
                        "required": False,
                        "description": "只列此刻及以后更新的任务（ISO 8601；不带时区按北京时间）。",
                        "schema": {"type": "string", "format": "date-time"},
                    },
                    {
                        "name": "cursor",
                        "in": "query",
                        "required": False,
                        "description": "上一页返回的 next_cursor，原样传回。",
                        "schema": {"type": "string"},
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "schema": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": feed.PAGE_MAX,
                            "default": DEFAULT_PAGE,
                        },
                    },
                ],
                "responses": {
                    "200": _json("TaskPage", "一页任务。"),
                    **_errors(400, 401, 500),
                },
            },
        },
        f"{API_PREFIX}/tasks/{{task_id}}": {
            "get": {
                "operationId": "getTask",
                "summary": "一个任务及其全部经过",
                "parameters": [
                    {
                        "name": "task_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 1},
                    }
                ],
                "responses": {
                    "200": _json("TaskDetail", "任务。"),
                    **_errors(401, 404, 500),
                },
            }
        },
        f"{API_PREFIX}/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "本文档",
                "security": [],
                "responses": {
                    "200": {
                        "description": "OpenAPI 3.1 文档。",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
    },
    "components": {
        "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer", "description": "接口令牌。"}
        },
        "schemas": {
            "WorkOrder": WORK_ORDER,
            "Task": TASK,
            "TaskDetail": TASK_DETAIL,
            "TaskPage": TASK_PAGE,
            "TimelineEvent": TIMELINE_EVENT,
            "Assignee": ASSIGNEE,
            "Ref": REF,
            "Error": ERROR,
        },
        "responses": {
            f"E{status}": _json("Error", text) for status, text in sorted(ERROR_TEXT.items())
        },
    },
}


def document() -> Schema:
    """A copy, so that no caller can change the served document."""
    return copy.deepcopy(DOCUMENT)


# Served as these bytes (rendered once).
DOCUMENT_JSON = json.dumps(DOCUMENT, ensure_ascii=False, separators=(",", ":")).encode()
