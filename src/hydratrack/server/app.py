"""The ASGI application: routers under ``/api/v1``, error shape, limits, sweeper, web UI."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, AsyncIterator

from fastapi import FastAPI

import hydratrack
from hydratrack.server.api import (
    actions,
    artifacts,
    audit,
    events,
    health,
    params,
    projects,
    queues,
    sessions,
    tasks,
    users,
    workers,
)
from hydratrack.server.audit import API_PREFIX, AuditLog
from hydratrack.server.context import ServerContext
from hydratrack.server.errors import CatchUnexpected, install_error_handlers
from hydratrack.server.lease import sweep_forever
from hydratrack.server.limits import BodyLimit

log = logging.getLogger("hydratrack.server")
# Routes are tried in order: the ones every run calls (create, events, status) come first.
ROUTERS = (
    tasks,
    events,
    actions,
    params,
    artifacts,
    workers,
    queues,
    projects,
    sessions,
    users,
    audit,
    health,
)


def create_app(ctx: ServerContext) -> FastAPI:
    """Build the app for an opened context (database migrated, file store ready)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx.wakeup.bind(asyncio.get_running_loop())
        sweeper = asyncio.create_task(sweep_forever(ctx))
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            ctx.db.dispose()

    app = FastAPI(
        title="hydratrack",
        version=hydratrack.__version__,
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    app.state.ctx = ctx
    install_error_handlers(app)
    for module in ROUTERS:
        app.include_router(module.router, prefix=API_PREFIX)
    _mount_web(app)
    app.add_middleware(CatchUnexpected)  # (inside the body limit: added first)
    app.add_middleware(
        AuditLog, ctx=ctx
    )  # server/audit.py (outside CatchUnexpected: sees its 500s)
    app.add_middleware(
        BodyLimit,
        max_body=ctx.settings.max_body_bytes,
        max_artifact=ctx.settings.max_artifact_bytes,
    )
    return app


def _mount_web(app: FastAPI) -> None:
    """Let the web UI add its pages, if that part is installed."""
    try:
        from hydratrack import web

        mount: Any = web.mount
    except (ImportError, AttributeError):
        log.info("web UI not available; serving the API only")
        return
    mount(app)
