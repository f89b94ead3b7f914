"""``GET /health``: answers without credentials once the server is ready.

``{"status": "ok"}``, or ``{"status": "degraded", "reasons": [...]}`` (still 200: reads
are served) when the database cannot take a write or the data disk is (nearly) full.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

import hydratrack
from hydratrack.server.auth import Ctx

router = APIRouter(tags=["health"])
MIN_FREE_BYTES = 1024 * 1024  # less than this (or than one largest body) free: "full"


def disk_problem(path: Path, need: int) -> str | None:
    """Why the disk holding ``path`` cannot take a write of ``need`` bytes, or None."""
    try:
        free = shutil.disk_usage(path).free
    except OSError as exc:
        return f"data disk: cannot read its free space ({exc})"
    if free < max(need, MIN_FREE_BYTES):
        return f"data disk full: {free} bytes free in {path} (a write may need {need})"
    return None


def health_report(ctx: Any) -> dict[str, Any]:
    """(one rolled-back write and one ``statvfs``: cheap enough to poll)"""
    reasons = []
    db = ctx.db.write_problem()
    if db is not None:
        reasons.append(f"database not writable: {db}")
    disk = disk_problem(ctx.settings.data_path, ctx.settings.max_body_bytes)
    if disk is not None:
        reasons.append(disk)
    out: dict[str, Any] = {
        "status": "degraded" if reasons else "ok",
        "version": hydratrack.__version__,
    }
    if reasons:
        out["reasons"] = reasons
    return out


@router.get("/health")
async def health(ctx: Ctx) -> dict[str, Any]:
    return await run_in_threadpool(health_report, ctx)
