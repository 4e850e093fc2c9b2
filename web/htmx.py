"""htmx request headers parsed once, and response helpers instead of raw header strings."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection
from starlette.responses import Response


@dataclass(frozen=True)
class HtmxDetails:
    request: bool
    boosted: bool
    target: str | None
    trigger: str | None
    current_url: str | None
    history_restore: bool

    @classmethod
    def from_request(cls, conn: HTTPConnection) -> HtmxDetails:
        h = conn.headers
        return cls(
            request=h.get("hx-request") == "true",
            boosted=h.get("hx-boosted") == "true",
            target=h.get("hx-target"),
            trigger=h.get("hx-trigger"),
            current_url=h.get("hx-current-url"),
            history_restore=h.get("hx-history-restore-request") == "true",
        )

    @property
    def wants_fragment(self) -> bool:
        """A partial swap; a boosted navigation or history restore wants the whole page."""
        return self.request and not self.boosted and not self.history_restore


def htmx(conn: HTTPConnection) -> HtmxDetails:
    state = conn.scope.setdefault("state", {})
    details = state.get("htmx")
    if details is None:
        details = state["htmx"] = HtmxDetails.from_request(conn)
    return details


def hx_redirect(response: Response, url: str) -> Response:
    response.headers["HX-Redirect"] = url
    return response
