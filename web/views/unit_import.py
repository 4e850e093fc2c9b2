"""Importing units from .xlsx/.csv: errors per row, nothing saved unless every row is good."""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from adapters.tabular import TableError, read_table, write_xlsx
from domain.permissions import Actor, can_manage_units, require
from domain.services.unit_import import HEADERS, MAX_ROWS, RowError, import_units
from web.deps import require_actor, uow

MAX_UPLOAD = 5 * 1024 * 1024
EXAMPLE_ROW = [
    "示例：滨江市第一人民医院",
    "驻区单位",
    "事业单位",
    "新华街道",
    "文化里社区",
    "新华路 100 号",
    "王敏",
    "010-12345678",
    "120",
]


async def import_page(request: Request) -> Response:
    actor = require_actor(request)
    require(can_manage_units(actor))
    return request.app.state.templates.render(
        request, "units/import.html", {"headers": list(HEADERS), "max_rows": MAX_ROWS}
    )


async def import_template(request: Request) -> Response:
    actor = require_actor(request)
    require(can_manage_units(actor))
    data = write_xlsx("单位导入", list(HEADERS), [EXAMPLE_ROW])
    return Response(
        data,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": "attachment; filename*=UTF-8''units-import-template.xlsx"},
    )


async def import_submit(request: Request) -> Response:
    actor = require_actor(request)
    require(can_manage_units(actor))
    form = await request.form()
    try:
        return await _import(request, actor, form.get("file"))
    finally:
        # The upload is a temporary file: close it on every path, success included.
        await form.close()


async def _import(request: Request, actor: Actor, upload: object) -> Response:
    templates = request.app.state.templates
    context: dict[str, object] = {"headers": list(HEADERS), "max_rows": MAX_ROWS}
    errors: list[RowError] = []
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors = [RowError(0, "文件", "请选择要上传的 .xlsx 或 .csv 文件。")]
    else:
        data = await upload.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            errors = [RowError(0, "文件", "文件超过 5 MB，请拆分后上传。")]
        else:
            try:
                headers, rows = read_table(upload.filename, data)
            except TableError as exc:
                errors = [RowError(0, "文件", str(exc))]
            else:
                context["filename"] = upload.filename
                async with uow(request, actor) as work:
                    result = await import_units(work, actor, headers, rows)
                    if not result.errors:
                        await work.commit()
                        created = [(u.id, u.name) for u in result.created]
                        context.update(created=created, rows_read=result.rows_read)
                        return templates.render(request, "units/import.html", context)
                errors = result.errors
                context["rows_read"] = result.rows_read
    context["row_errors"] = errors
    return templates.render(request, "units/import.html", context, status_code=400)
