"""Numbers typed into forms and spreadsheets, or carried in URLs, read without surprises."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# Row ids are PostgreSQL INTEGERs: a larger number fails the query instead of finding nothing.
MAX_ID = 2**31 - 1
# Nine digits always fit in an INTEGER.
MAX_ID_DIGITS = 9


def parse_id(text: str) -> int | None:
    """A row id sent as text, or None when the text cannot be one.

    Not `str.isdigit`: it accepts '²', which int() refuses. int() also refuses
    very long digit strings.
    """
    text = text.strip()
    return int(text) if text.isdecimal() and len(text) <= MAX_ID_DIGITS else None


def is_row_id(value: int) -> bool:
    """Whether a number (say, from a URL) could name a row at all."""
    return 0 < value <= MAX_ID


@dataclass(frozen=True)
class RowError:
    """One problem in an uploaded spreadsheet (every import reports the same shape)."""

    row: int  # spreadsheet row number, header = 1; 0 for the file as a whole
    column: str
    message: str

    @property
    def text(self) -> str:
        return f"第 {self.row} 行：{self.message}" if self.row else self.message


def missing_headers(headers: Sequence[str], required: Sequence[str]) -> list[RowError]:
    """A header-row error naming the required columns the file lacks, or nothing."""
    present = {h.strip() for h in headers}
    missing = [h for h in required if h not in present]
    if missing:
        return [RowError(1, "表头", f"缺少必需的列：{'、'.join(missing)}")]
    return []
