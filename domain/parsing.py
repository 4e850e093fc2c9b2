"""Numbers typed into forms and spreadsheets, or carried in URLs, read without surprises."""

from __future__ import annotations

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
