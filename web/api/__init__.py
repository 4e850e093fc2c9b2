"""The JSON API under /api/v1 for machine clients with bearer tokens (see openapi.py)."""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.routing import Mount, Route

from web.api import views
from web.api.errors import API_PREFIX, JSONErrors


def mount() -> Mount:
    """Mounted before the pages' routes; its own 404 and 405 answer in JSON too."""
    return Mount(
        API_PREFIX,
        routes=[
            # One route for both methods, so that a 405 names both in `Allow`.
            Route("/tasks", views.tasks, methods=["GET", "POST"]),
            Route("/tasks/{task_id:id}", views.get_task, methods=["GET"]),
            Route("/openapi.json", views.openapi, methods=["GET"]),
        ],
        middleware=[Middleware(JSONErrors)],
    )
