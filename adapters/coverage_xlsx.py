"""The organisation import template (.xlsx) and reading an uploaded list."""

from __future__ import annotations

from starlette.datastructures import UploadFile

from adapters.tabular import TableError, read_table, write_xlsx
from domain.coverage.importer import HEADERS

__all__ = ["EXAMPLE_ROW", "MAX_UPLOAD", "TableError", "read_orgs", "read_upload", "template"]

MAX_UPLOAD = 5 * 1024 * 1024

EXAMPLE_ROW = [
    "示例：滨江云启信息技术有限公司",
    "91110105MA01ABCD26",
    "企业",
    "环球金融中心",
    "软件和信息技术服务",
    "120",
    "5",
    "单独建立党组织",
    "中共滨江云启信息技术有限公司支部委员会",
    "王敏",
    "13800000000",
]
NOTES = [
    "说明：第一行为表头，从第二行起每行一个组织；名称、统一社会信用代码必填。",
    "类别填“企业”或“社会组织”；所在载体填本街道已登记的载体名称；",
    "覆盖方式填：单独建立党组织、联合党组织、委托街道/社区党组织、依托行业协会/商会、依托产业链、未覆盖。",
    "已登记的组织（统一社会信用代码相同）将按文件内容更新；表中缺少的列保留原值。导入前请删除示例行。",
]


def template() -> bytes:
    return write_xlsx("新兴领域组织导入", list(HEADERS), [EXAMPLE_ROW])


def read_orgs(filename: str, data: bytes) -> tuple[list[str], list[list[str]]]:
    """Header and rows of an uploaded .xlsx (or .csv); TableError when unreadable."""
    return read_table(filename, data)


async def read_upload(upload: object) -> tuple[str, list[str], list[list[str]]]:
    """File name, header and rows of an uploaded form file; TableError says what is wrong."""
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise TableError("请选择要上传的 .xlsx 文件。")
    data = await upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise TableError("文件超过 5 MB，请拆分后上传。")
    headers, rows = read_orgs(upload.filename, data)
    return upload.filename, headers, rows
