"""Path convertors, registered on import (before any route list is built)."""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor


class IdConvertor(Convertor[int]):
    """A row id in a path. Nine digits at most, so it always fits an INTEGER column:
    a longer number matches no route (404) instead of failing in the database (500)."""

    regex = "[0-9]{1,9}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("id", IdConvertor())
