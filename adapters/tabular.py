"""Reading and writing spreadsheets (.xlsx, .csv) as header + rows of text."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from openpyxl import Workbook, load_workbook


class TableError(Exception):
    """The file could not be read as a table; the message is for the user."""


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores 12 as 12.0
    return str(value).strip()


def read_table(filename: str, data: bytes) -> tuple[list[str], list[list[str]]]:
    name = filename.lower()
    if name.endswith(".xlsx"):
        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:
            raise TableError("无法读取该 Excel 文件，请确认是 .xlsx 格式且未加密。") from None
        try:
            sheet = wb.worksheets[0]
            rows = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        finally:
            wb.close()
    elif name.endswith(".csv"):
        text = None
        # Excel in China saves CSV as GB18030 unless told otherwise.
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        if text is None:
            raise TableError("无法识别 CSV 文件的编码，请另存为 UTF-8 编码。")
        rows = [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]
    else:
        raise TableError("只支持 .xlsx 或 .csv 文件。")
    rows = [r for r in rows if any(c for c in r)]  # blank lines are not rows
    if not rows:
        raise TableError("文件是空的。")
    return rows[0], rows[1:]


def write_xlsx(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title[:31]
    ws.append(list(headers))
    for row in rows:
        ws.append(list(row))
    for i, header in enumerate(headers, start=1):
        ws.column_dimensions[ws.cell(1, i).column_letter].width = max(12, len(header) * 3)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
