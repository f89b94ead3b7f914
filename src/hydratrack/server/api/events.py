"""Run events: ``POST /tasks/{id}/events`` (batched, idempotent) and the reads."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import Field, ValidationError, model_validator

from hydratrack.server.api.models import Identifier, Output, Typed
from hydratrack.server.api.task_access import read_task
from hydratrack.server.auth import Ctx
from hydratrack.server.context import Caller
from hydratrack.server.permissions import can
from hydratrack.server.store import events as events_repo
from hydratrack.server.store import scalars as scalar_store

router = APIRouter(prefix="/tasks/{task_id}", tags=["events"])
MAX_EVENTS = 100_000
MAX_POINTS = 1_000_000  # per array of a "scalars" event; the body limit (413) comes first
Short = Annotated[Identifier, Field(min_length=1, max_length=255)]
Iteration = Annotated[int, Field(ge=-(2**31), lt=2**31)]
Micros = Annotated[int, Field(ge=-(2**53), le=2**53)]  # exact as a float
Seconds = Annotated[float, Field(allow_inf_nan=False)]  # a time: finite (values may be NaN/inf)


class ScalarEvent(Typed):
    type: Literal["scalar"]
    metric: Short
    variant: Short
    iter: Iteration
    value: float
    ts: Seconds = Field(default_factory=time.time)


class ScalarsEvent(Typed):
    """Many points of one series as parallel arrays (the fast path: no object per point).

    Times come as ``ts`` (float seconds) or ``ts_us`` (integer microseconds since the
    epoch: several times cheaper to write and read as JSON than floats), never both."""

    type: Literal["scalars"]
    metric: Short
    variant: Short
    iters: Annotated[list[Iteration], Field(min_length=1, max_length=MAX_POINTS)]
    values: Annotated[list[float], Field(min_length=1, max_length=MAX_POINTS)]
    ts: Annotated[list[Seconds], Field(min_length=1, max_length=MAX_POINTS)] | None = None
    ts_us: Annotated[list[Micros], Field(min_length=1, max_length=MAX_POINTS)] | None = None

    @model_validator(mode="after")
    def _same_length(self) -> "ScalarsEvent":
        if (self.ts is None) == (self.ts_us is None):
            raise ValueError(
                "give the times as ts (seconds) or ts_us (integer microseconds), one of them"
            )
        times = self.ts if self.ts is not None else self.ts_us
        assert times is not None
        if not len(self.iters) == len(self.values) == len(times):
            which = "ts" if self.ts is not None else "ts_us"
            raise ValueError(
                f"iters, values and {which} must have the same length (got "
                f"{len(self.iters)}, {len(self.values)}, {len(times)})"
            )
        if self.ts_us is not None:
            self.ts, self.ts_us = [u / 1e6 for u in self.ts_us], None
        return self


class ConsoleEvent(Typed):
    type: Literal["console"]
    stream: Literal["stdout", "stderr"] = "stdout"
    text: Output
    ts: Seconds = Field(default_factory=time.time)


class TextEvent(Typed):
    type: Literal["text"]
    title: Short
    text: Output
    iter: int = Field(default=0, ge=-(2**31), lt=2**31)
    ts: Seconds = Field(default_factory=time.time)


Event = Annotated[
    ScalarEvent | ScalarsEvent | ConsoleEvent | TextEvent, Field(discriminator="type")
]


class Batch(Typed):
    batch_id: Annotated[Identifier, Field(min_length=1, max_length=128)]
    events: Annotated[list[Event], Field(max_length=MAX_EVENTS)]


def _inlined(schema: Any, defs: dict[str, Any]) -> Any:
    """A JSON schema with its ``$defs`` references replaced by the definitions (the
    discriminator keeps its property name; its mapping would point into ``$defs``)."""
    if isinstance(schema, dict):
        ref = schema.get("$ref", "")
        if ref.startswith("#/$defs/"):
            return _inlined(defs[ref.rsplit("/", 1)[1]], defs)
        return {
            k: {"propertyName": v["propertyName"]} if k == "discriminator" else _inlined(v, defs)
            for k, v in schema.items()
            if k != "$defs"
        }
    if isinstance(schema, list):
        return [_inlined(v, defs) for v in schema]
    return schema


_BATCH_SCHEMA = Batch.model_json_schema()
_BATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _inlined(_BATCH_SCHEMA, _BATCH_SCHEMA.get("$defs", {}))}
        },
    }
}


@router.post("/events", openapi_extra=_BATCH_BODY)
async def post_events(
    task_id: str, request: Request, caller: Annotated[Caller, can("task.write")], ctx: Ctx
) -> dict[str, Any]:
    """The body is parsed and validated in one pass by pydantic's JSON parser (a third of
    the time of ``json.loads`` plus validation: docs/benchmarks.md), off the event loop."""
    raw = await request.body()
    return await run_in_threadpool(_post_events, task_id, raw, ctx)


def _post_events(task_id: str, raw: bytes, ctx: Any) -> dict[str, Any]:
    try:
        body = Batch.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None
    events = [e.__dict__ if isinstance(e, ScalarsEvent) else e.model_dump() for e in body.events]
    with ctx.db.write() as conn:
        accepted = events_repo.ingest(conn, task_id, body.batch_id, events)
    if accepted is None:
        return {"accepted": 0, "duplicate": True}
    return {"accepted": accepted, "duplicate": False}


@router.get("/scalars")
def get_scalars(
    task_id: str,
    caller: Annotated[Caller, can("task.read")],
    ctx: Ctx,
    max_points: Annotated[int, Query(ge=2, le=100_000)] = 2000,
    x_axis: Literal["iter", "time"] = "iter",
    metrics: str | None = None,
) -> dict[str, Any]:
    wanted = [m.strip() for m in metrics.split(",") if m.strip()] if metrics else None
    return read_task(
        ctx, task_id, lambda conn: scalar_store.read(conn, task_id, max_points, x_axis, wanted)
    )


@router.get("/scalars/last")
def get_last_scalars(
    task_id: str, caller: Annotated[Caller, can("task.read")], ctx: Ctx
) -> dict[str, Any]:
    return read_task(ctx, task_id, lambda conn: events_repo.last_scalars(conn, task_id))


@router.get("/console")
def get_console(
    task_id: str,
    caller: Annotated[Caller, can("task.read")],
    ctx: Ctx,
    after: Annotated[int, Query(ge=-(2**31), lt=2**31)] = -1,  # (seq numbers are int32)
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    order: Literal["asc", "desc"] = "asc",
) -> dict[str, Any]:
    return read_task(
        ctx, task_id, lambda conn: events_repo.read_console(conn, task_id, after, limit, order)
    )


@router.get("/texts")
def get_texts(
    task_id: str, caller: Annotated[Caller, can("task.read")], ctx: Ctx
) -> dict[str, Any]:
    return {"items": read_task(ctx, task_id, lambda conn: events_repo.read_texts(conn, task_id))}
