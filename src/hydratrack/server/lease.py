"""The sweeper: fails tasks whose worker stopped sending heartbeats; hourly, drops old logins
and refreshes the SQLite planner's statistics."""

from __future__ import annotations

import asyncio
import logging
import time

from starlette.concurrency import run_in_threadpool

from hydratrack.server.context import ServerContext
from hydratrack.server.store import lifecycle
from hydratrack.server.store import users as users_repo

log = logging.getLogger("hydratrack.server")
CLEANUP_SECONDS = 3600.0


def sweep_once(ctx: ServerContext) -> list[str]:
    with ctx.db.write() as conn:
        failed = lifecycle.fail_expired_leases(conn, ctx.settings.lease_seconds)
        ended = users_repo.revoke_ended_task_tokens(conn)
    for key in ended:  # tasks that ended any other way (reset, unregistered worker ...)
        ctx.keys.drop(key)
    for task_id in failed:
        log.warning(
            "task %s failed: its worker sent no heartbeat for %g s",
            task_id,
            ctx.settings.lease_seconds,
        )
    return failed


def hourly_maintenance(ctx: ServerContext) -> None:
    """Drop expired sessions and login links; let SQLite re-analyze tables that grew."""
    with ctx.db.write() as conn:
        users_repo.delete_expired(conn)
    ctx.db.optimize()


async def sweep_forever(ctx: ServerContext) -> None:
    """Expired leases every ``--sweep-seconds``; :func:`hourly_maintenance` hourly."""
    last_cleanup = 0.0
    while True:
        await asyncio.sleep(ctx.settings.sweep_seconds)
        try:
            await run_in_threadpool(sweep_once, ctx)
            if time.monotonic() - last_cleanup > CLEANUP_SECONDS:
                last_cleanup = time.monotonic()
                await run_in_threadpool(hourly_maintenance, ctx)
        except Exception:  # keep sweeping; a DB hiccup must not stop leases forever
            log.exception("lease sweep failed")
