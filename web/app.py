"""Application factory: picks the adapters from configuration and wires the middleware."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware

from adapters.db import make_engine, make_session_factory
from adapters.jobs import ArqJobRunner, InlineJobRunner, JobRunner
from adapters.live.service import LiveService
from gongjian.config import Config, load_config
from web.api.errors import API_PREFIX
from web.auth_mw import AuthMiddleware
from web.errors import EXCEPTION_HANDLERS, csrf_rejected
from web.live import EventRenderer, render_presence
from web.routes import routes
from web.security import CSRFMiddleware, SecurityHeadersMiddleware
from web.templating import Templates

log = logging.getLogger("gongjian")


def create_app(
    config: Config | None = None, *, run_jobs: bool = True, live_poll_seconds: float = 0.5
) -> Starlette:
    config = config or load_config()
    engine = make_engine(config.database_url)
    session_factory = make_session_factory(engine)
    jobs: JobRunner = (
        ArqJobRunner(config.redis_url)
        if config.redis_url
        else InlineJobRunner(session_factory, periodic=run_jobs)
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await jobs.start()
        await app.state.live.start()
        try:
            yield
        finally:
            await app.state.live.stop()
            await jobs.stop()
            await engine.dispose()

    middleware = [
        Middleware(SecurityHeadersMiddleware, hsts=config.secure_cookies),
        # Auth before CSRF so that a refused request still renders with the user's navigation.
        Middleware(
            AuthMiddleware,
            session_factory=session_factory,
            skip_prefixes=("/static/", "/healthz", API_PREFIX + "/"),
        ),
        Middleware(
            CSRFMiddleware,
            secret=config.secret_key,
            secure=config.secure_cookies,
            on_reject=csrf_rejected,
            exempt_prefixes=(API_PREFIX + "/",),
        ),
    ]
    app = Starlette(
        routes=routes(),
        middleware=middleware,
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        lifespan=lifespan,
    )
    app.state.config = config
    app.state.engine = engine
    app.state.session_factory = session_factory
    app.state.templates = Templates()
    app.state.jobs = jobs
    app.state.live = LiveService(
        engine,
        session_factory,
        EventRenderer(app),
        render_presence,
        redis_url=config.redis_url,
        poll_seconds=live_poll_seconds,
    )
    return app
