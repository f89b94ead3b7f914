"""Run events: ``POST /tasks/{id}/events`` (batched, idempotent) and the reads."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import Field

from hydratrack.server.api.models import Strict
from hydratrack.server.auth import Ctx, CurrentUser
from hydratrack.server.store import events as events_repo
from hydratrack.server.store import tasks as tasks_repo

router = APIRouter(prefix="/tasks/{task_id}", tags=["events"])
MAX_EVENTS = 100_000
Short = Annotated[str, Field(min_length=1, max_length=255)]


class ScalarEvent(Strict):
    type: Literal["scalar"]
    metric: Short
    variant: Short
    iter: int = Field(ge=-(2**31), lt=2**31)
    value: float
    ts: float = Field(default_factory=time.time)


class ConsoleEvent(Strict):
    type: Literal["console"]
    stream: Literal["stdout", "stderr"] = "stdout"
    text: str
    ts: float = Field(default_factory=time.time)


class TextEvent(Strict):
    type: Literal["text"]
    title: Short
    text: str
    iter: int = Field(default=0, ge=-(2**31), lt=2**31)
    ts: float = Field(default_factory=time.time)


Event = Annotated[ScalarEvent | ConsoleEvent | TextEvent, Field(discriminator="type")]


class Batch(Strict):
    batch_id: Annotated[str, Field(min_length=1, max_length=128)]
    events: Annotated[list[Event], Field(max_length=MAX_EVENTS)]


@router.post("/events")
def post_events(task_id: str, body: Batch, caller: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    events = [e.model_dump() for e in body.events]
    with ctx.db.write() as conn:
        accepted = events_repo.ingest(conn, task_id, body.batch_id, events)
    if accepted is None:
        return {"accepted": 0, "duplicate": True}
    return {"accepted": accepted, "duplicate": False}


@router.get("/scalars")
def get_scalars(task_id: str, caller: CurrentUser, ctx: Ctx,
                max_points: Annotated[int, Query(ge=2, le=100_000)] = 2000,
                x_axis: Literal["iter", "time"] = "iter",
                metrics: str | None = None) -> dict[str, Any]:
    wanted = [m.strip() for m in metrics.split(",") if m.strip()] if metrics else None
    with ctx.db.read() as conn:
        tasks_repo.get_row(conn, task_id)
        return events_repo.read_scalars(conn, task_id, max_points, x_axis, wanted)


@router.get("/scalars/last")
def get_last_scalars(task_id: str, caller: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    with ctx.db.read() as conn:
        tasks_repo.get_row(conn, task_id)
        return events_repo.last_scalars(conn, task_id)


@router.get("/console")
def get_console(task_id: str, caller: CurrentUser, ctx: Ctx, after: int = -1,
                limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
                order: Literal["asc", "desc"] = "asc") -> dict[str, Any]:
    with ctx.db.read() as conn:
        tasks_repo.get_row(conn, task_id)
        return events_repo.read_console(conn, task_id, after, limit, order)


@router.get("/texts")
def get_texts(task_id: str, caller: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    with ctx.db.read() as conn:
        tasks_repo.get_row(conn, task_id)
        return {"items": events_repo.read_texts(conn, task_id)}
