"""The task ledger (任务台账) as .xlsx, and importing street assignments from .xlsx/.csv.

The import follows the unit import: errors per row, nothing saved unless every row is good.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from adapters.tabular import TableError, read_table
from adapters.task_ledger_xlsx import XLSX, build_ledger_xlsx, ledger_template_xlsx
from domain.enums import TaskSource
from domain.permissions import Actor
from domain.tasks.forms import task_form
from domain.tasks.ledger import LedgerFilters, ledger_rows, ledger_street
from domain.tasks.ledger_import import (
    COLUMNS,
    MAX_BYTES,
    MAX_ROWS,
    REQUIRED,
    ImportRejected,
    RowError,
    import_tasks,
)
from web.deps import require_actor, uow

GET, POST = ["GET"], ["POST"]
PAGE = "tasks/ledger_import.html"


def _attachment(ascii_name: str, name: str) -> dict[str, str]:
    """A plain fallback name for old clients, the Chinese one (RFC 5987) for the rest."""
    plain = f'attachment; filename="{ascii_name}"'
    return {"Content-Disposition": f"{plain}; filename*=UTF-8''{quote(name)}"}


async def ledger_xlsx(request: Request) -> Response:
    actor = require_actor(request)
    street_id: int = request.path_params["street_id"]
    filters = LedgerFilters.parse(request.query_params)
    async with uow(request, actor) as work:
        street = await ledger_street(work, actor, street_id)
        rows = await ledger_rows(work, actor, street_id, filters)
    # Building a large workbook takes a while: not on the event loop.
    data = await run_in_threadpool(build_ledger_xlsx, rows)
    period = filters.period_label
    return Response(
        data,
        media_type=XLSX,
        headers=_attachment(
            f"task-ledger-{street_id}-{period}.xlsx", f"任务台账-{street.name}-{period}.xlsx"
        ),
    )


async def _page(
    request: Request, actor: Actor, street_id: int, status: int = 200, **extra: object
) -> Response:
    async with uow(request, actor) as work:
        # The new-task form's permission: the street's secretary and supervisors.
        form = await task_form(work, actor, street_id, TaskSource.ASSIGNMENT)
    context: dict[str, object] = {
        "street": form.street,
        "columns": COLUMNS,
        "required": REQUIRED,
        "max_rows": MAX_ROWS,
        "assign_now": True,
        "handler_count": len(form.handlers),
    }
    context.update(extra)
    return request.app.state.templates.render(request, PAGE, context, status_code=status)


async def import_page(request: Request) -> Response:
    actor = require_actor(request)
    return await _page(request, actor, request.path_params["street_id"])


async def import_template(request: Request) -> Response:
    actor = require_actor(request)
    street_id: int = request.path_params["street_id"]
    async with uow(request, actor) as work:
        form = await task_form(work, actor, street_id, TaskSource.ASSIGNMENT)
    data = ledger_template_xlsx(
        [u.name for u in form.handlers], list(dict.fromkeys(a.title for a in form.admitted))
    )
    return Response(
        data,
        media_type=XLSX,
        headers=_attachment(
            f"task-import-template-{street_id}.xlsx", f"任务导入模板-{form.street.name}.xlsx"
        ),
    )


async def import_submit(request: Request) -> Response:
    actor = require_actor(request)
    street_id: int = request.path_params["street_id"]
    form = await request.form()
    try:
        upload = form.get("file")
        assign_now = form.get("assign_now") == "1"
        filename = upload.filename if isinstance(upload, UploadFile) and upload.filename else ""
        if not isinstance(upload, UploadFile) or not filename:
            errors = [RowError(0, "文件", "请选择要上传的 .xlsx 或 .csv 文件。")]
        else:
            data = await upload.read(MAX_BYTES + 1)
            imported, errors = await _import(request, actor, street_id, filename, data, assign_now)
            if not errors:
                return RedirectResponse(
                    f"/streets/{street_id}/tasks?imported={imported}", status_code=303
                )
    finally:
        # The upload is a temporary file: close it on every path, success included.
        await form.close()
    return await _page(
        request,
        actor,
        street_id,
        status=400,
        row_errors=errors,
        filename=filename,
        assign_now=assign_now,
    )


async def _import(
    request: Request, actor: Actor, street_id: int, filename: str, data: bytes, assign_now: bool
) -> tuple[int, list[RowError]]:
    """How many tasks were imported (and committed), or the problems found."""
    if len(data) > MAX_BYTES:
        return 0, [RowError(0, "文件", "文件超过 5 MB，请拆分后上传。")]
    try:
        headers, rows = read_table(filename, data)
    except TableError as exc:
        return 0, [RowError(0, "文件", str(exc))]
    try:
        async with uow(request, actor) as work:
            result = await import_tasks(
                work, actor, street_id, headers, rows, assign_now=assign_now, filename=filename
            )
            await work.commit()
    except ImportRejected as exc:
        return 0, exc.rows
    return result.count, []


ROUTES: list[BaseRoute] = [
    Route("/streets/{street_id:id}/tasks/ledger.xlsx", ledger_xlsx, methods=GET),
    Route("/streets/{street_id:id}/tasks/import", import_page, methods=GET),
    Route("/streets/{street_id:id}/tasks/import", import_submit, methods=POST),
    Route("/streets/{street_id:id}/tasks/import/template.xlsx", import_template, methods=GET),
]
