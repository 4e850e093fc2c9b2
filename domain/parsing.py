"""Numbers typed into forms and spreadsheets, read without surprises."""

from __future__ import annotations

# PostgreSQL's INTEGER ends at 2_147_483_647; nine digits always fit.
MAX_ID_DIGITS = 9


def parse_id(text: str) -> int | None:
    """A row id sent as text, or None when the text cannot be one.

    Not `str.isdigit`: it accepts '²', which int() refuses. int() also refuses
    very long digit strings, and an id beyond INTEGER fails the query itself.
    """
    text = text.strip()
    return int(text) if text.isdecimal() and len(text) <= MAX_ID_DIGITS else None
