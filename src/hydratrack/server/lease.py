"""The lease sweeper: fails tasks whose worker stopped sending heartbeats."""

from __future__ import annotations

import asyncio
import logging

from starlette.concurrency import run_in_threadpool

from hydratrack.server.context import ServerContext
from hydratrack.server.store import lifecycle

log = logging.getLogger("hydratrack.server")


def sweep_once(ctx: ServerContext) -> list[str]:
    with ctx.db.write() as conn:
        failed = lifecycle.fail_expired_leases(conn, ctx.settings.lease_seconds)
    for task_id in failed:
        log.warning("task %s failed: its worker sent no heartbeat for %g s",
                    task_id, ctx.settings.lease_seconds)
    return failed


async def sweep_forever(ctx: ServerContext) -> None:
    while True:
        await asyncio.sleep(ctx.settings.sweep_seconds)
        try:
            await run_in_threadpool(sweep_once, ctx)
        except Exception:  # keep sweeping; a DB hiccup must not stop leases forever
            log.exception("lease sweep failed")
