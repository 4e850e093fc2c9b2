from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from adapters.db import ping


async def healthz(request: Request) -> JSONResponse:
    state = request.app.state
    db_ok = await ping(state.engine)
    body = {
        "status": "ok" if db_ok else "error",
        "database": "ok" if db_ok else "unavailable",
        "live": state.config.live_backend,
        "jobs": state.jobs.backend,
    }
    return JSONResponse(body, status_code=200 if db_ok else 503)
