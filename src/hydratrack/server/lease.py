"""The sweeper: deals with tasks whose worker stopped sending heartbeats (failed or
re-queued, by their queue's policy) and removes workers gone for longer than
``--worker-gone-seconds``; hourly, drops old logins and refreshes the SQLite planner's
statistics."""

from __future__ import annotations

import asyncio
import logging
import time

from starlette.concurrency import run_in_threadpool

from hydratrack.server.context import ServerContext
from hydratrack.server.store import leases
from hydratrack.server.store import users as users_repo
from hydratrack.server.store import workers as workers_repo
from hydratrack.status import TaskStatus

log = logging.getLogger("hydratrack.server")
CLEANUP_SECONDS = 3600.0


def sweep_once(ctx: ServerContext) -> list[leases.Lost]:
    """Tasks of lost workers failed or re-queued; workers gone too long removed."""
    settings = ctx.settings
    with ctx.db.write() as conn:
        lost = leases.expire(conn, settings.lease_seconds)
        gone = workers_repo.remove_gone(conn, settings.worker_gone_seconds)
        ended = users_repo.revoke_ended_task_tokens(conn)
    for key in ended:  # tasks that ended any other way (lost, reset, unregistered worker ...)
        ctx.keys.drop(key)
    for item in lost:
        log.warning("task %s %s: %s", item.task_id, _verb(item), item.reason)
        for uri in item.artifact_uris:
            ctx.files.delete(uri)
    if any(item.status is TaskStatus.QUEUED for item in lost):
        ctx.wakeup.notify()
    for name in gone:
        log.info(
            "worker %s removed: no heartbeat for over %g s", name, settings.worker_gone_seconds
        )
    return lost


def _verb(item: leases.Lost) -> str:
    return "re-queued" if item.status is TaskStatus.QUEUED else str(item.status)


def hourly_maintenance(ctx: ServerContext) -> None:
    """Drop expired sessions and login links; let SQLite re-analyze tables that grew."""
    with ctx.db.write() as conn:
        users_repo.delete_expired(conn)
    ctx.db.optimize()


async def sweep_forever(ctx: ServerContext) -> None:
    """Expired leases every ``--sweep-seconds``; :func:`hourly_maintenance` hourly.

    Nothing is swept in the first ``--lease-seconds`` after the start: while the server
    was down no agent could send a heartbeat, so leases that ran out (and workers that
    went quiet) meanwhile say nothing about the agents; each gets one full lease to reach
    the server again.
    """
    started = time.monotonic()
    last_cleanup = started - CLEANUP_SECONDS  # the first sweep cleans up too
    while True:
        await asyncio.sleep(ctx.settings.sweep_seconds)
        try:
            if time.monotonic() - started >= ctx.settings.lease_seconds:
                await run_in_threadpool(sweep_once, ctx)
            if time.monotonic() - last_cleanup > CLEANUP_SECONDS:
                last_cleanup = time.monotonic()
                await run_in_threadpool(hourly_maintenance, ctx)
        except Exception:  # keep sweeping; a DB hiccup must not stop leases forever
            log.exception("lease sweep failed")
