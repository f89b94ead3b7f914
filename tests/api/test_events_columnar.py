"""The columnar ``scalars`` event: many points of one series as parallel arrays (#6)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Callable

import httpx

from hydratrack.client import ApiClient
from tests.api.conftest import assert_error, unique
from tests.support.servers import running_server

Make = Callable[..., dict[str, Any]]


def columnar(
    iters: list[int],
    values: list[Any],
    metric: str = "loss",
    variant: str = "train",
    ts: list[float] | None = None,
) -> dict[str, Any]:
    return {
        "type": "scalars",
        "metric": metric,
        "variant": variant,
        "iters": iters,
        "values": values,
        "ts": ts if ts is not None else [100.0 + i for i in iters],
    }


def test_columnar_with_other_events_in_one_batch(
    api: ApiClient, http: httpx.Client, make_task: Make
) -> None:
    t = make_task(status="in_progress")
    batch = unique("b")
    evs = [
        {"type": "console", "text": "hello\n", "ts": 1.0},
        columnar([0, 1, 2], [3.0, 2.0, 2.5]),
        {
            "type": "scalar",
            "metric": "loss",
            "variant": "train",
            "iter": 3,
            "value": 1.0,
            "ts": 103.0,
        },
        columnar([0, 1], [0.1, 0.2], "acc", "val"),
        columnar([4, 5], [0.5, 0.25]),  # the same series again: appended in order
    ]
    assert api.post_events(t["id"], batch, evs) == {"accepted": 9, "duplicate": False}
    assert api.post_events(t["id"], batch, evs) == {"accepted": 0, "duplicate": True}
    got = api.get_scalars(t["id"])
    assert got == {
        "loss": {"train": {"x": [0, 1, 2, 3, 4, 5], "y": [3.0, 2.0, 2.5, 1.0, 0.5, 0.25]}},
        "acc": {"val": {"x": [0, 1], "y": [0.1, 0.2]}},
    }
    by_time = api.get_scalars(t["id"], x_axis="time", metrics="acc")
    assert by_time == {"acc": {"val": {"x": [100.0, 101.0], "y": [0.1, 0.2]}}}
    last = http.get(f"/tasks/{t['id']}/scalars/last").json()
    assert last["loss"]["train"] == {"value": 0.25, "iter": 5, "min": 0.25, "max": 3.0}
    assert api.get_console(t["id"])["items"][0]["text"] == "hello\n"


def test_times_as_integer_microseconds(api: ApiClient, make_task: Make) -> None:
    t = make_task(status="in_progress")
    ev = {
        "type": "scalars",
        "metric": "loss",
        "variant": "train",
        "iters": [0, 1, 2],
        "values": [1.0, 2.0, 3.0],
        "ts_us": [1764392400123456, 1764392400123457, 5],
    }
    assert api.post_events(t["id"], unique("b"), [ev])["accepted"] == 3
    got = api.get_scalars(t["id"], x_axis="time")["loss"]["train"]
    assert got == {"x": [5e-06, 1764392400.123456, 1764392400.123457], "y": [3.0, 1.0, 2.0]}


def test_non_finite_values_as_text_are_kept(
    api: ApiClient, http: httpx.Client, make_task: Make
) -> None:
    t = make_task(status="in_progress")
    ev = columnar([0, 1, 2, 3, 4], [1.0, "NaN", "Infinity", 0.5, "-Infinity"])
    assert api.post_events(t["id"], unique("b"), [ev])["accepted"] == 5
    assert api.request("GET", f"/tasks/{t['id']}/scalars").json()["loss"]["train"] == {
        "x": [0, 1, 2, 3, 4],
        "y": [1.0, "NaN", "Infinity", 0.5, "-Infinity"],
    }
    last = http.get(f"/tasks/{t['id']}/scalars/last").json()["loss"]["train"]
    assert last == {"value": "-Infinity", "iter": 4, "min": "-Infinity", "max": "Infinity"}


def test_bad_columnar_events_name_the_event_and_store_nothing(
    api: ApiClient, http: httpx.Client, make_task: Make
) -> None:
    t = make_task(status="in_progress")
    url = f"/tasks/{t['id']}/events"
    good = columnar([0, 1], [1.0, 2.0])
    cases = {
        "length": (columnar([0, 1, 2], [1.0, 2.0]), "body.events.1", "same length"),
        "iteration range": (
            columnar([0, 2**31], [1.0, 2.0]),
            "body.events.1.scalars.iters.1",
            "less than",
        ),
        "not a number": (
            columnar([0, 1], [1.0, "abc"]),
            "body.events.1.scalars.values.1",
            "number",
        ),
        "empty": (columnar([], [], ts=[]), "body.events.1.scalars.iters", "at least 1"),
        "unknown field": ({**good, "iter": 3}, "body.events.1.scalars.iter", "not permitted"),
        "no times": (
            {k: v for k, v in good.items() if k != "ts"},
            "body.events.1.scalars",
            "ts (seconds) or ts_us",
        ),
        "both times": ({**good, "ts_us": [1, 2]}, "body.events.1.scalars", "one of them"),
        "ts_us length": (
            {**{k: v for k, v in good.items() if k != "ts"}, "ts_us": [1]},
            "body.events.1.scalars",
            "iters, values and ts_us",
        ),
        "ts_us not integer": (
            {**{k: v for k, v in good.items() if k != "ts"}, "ts_us": [1, 2.5]},
            "body.events.1.scalars.ts_us.1",
            "integer",
        ),
    }
    for name, (bad, field, words) in cases.items():
        err = assert_error(
            http.post(url, json={"batch_id": "b1", "events": [good, bad]}), 422, "validation_error"
        )
        fields = [d["field"] for d in err["details"]]
        assert any(f.startswith(field) for f in fields), (name, fields)
        assert any(words in d["message"] for d in err["details"]), (name, err["details"])
    assert_error(
        http.post(
            url,
            content=b'{"batch_id": "b1", "events": [',
            headers={"content-type": "application/json"},
        ),
        400,
        "bad_request",
        "JSON",
    )
    assert api.get_scalars(t["id"]) == {}
    assert api.post_events(t["id"], "b1", [good])["accepted"] == 2  # the id was not used up


def test_big_columnar_batch_fits_the_default_body_limit(api: ApiClient, make_task: Make) -> None:
    t = make_task(status="in_progress")
    n = 50_000
    iters = list(range(n))
    ev = columnar(
        iters,
        [1.0 / (1 + i) + (i % 13) * 1e-3 for i in iters],
        ts=[1764392400.123456 + i * 1e-3 for i in iters],
    )
    size = len(json.dumps({"batch_id": "x" * 32, "events": [ev]}))
    assert size < 4 * 2**20, size  # ~2.4 MB: a sixth of the default 16 MiB limit
    assert api.post_events(t["id"], unique("b"), [ev])["accepted"] == n
    got = api.get_scalars(t["id"], max_points=500)["loss"]["train"]
    assert 200 < len(got["x"]) <= 500 and got["x"][0] == 0 and got["x"][-1] == n - 1
    by_iter = dict(zip(iters, ev["values"], strict=True))
    assert all(by_iter[x] == y for x, y in zip(got["x"], got["y"], strict=True))
    assert max(ev["values"]) in got["y"] and min(ev["values"]) in got["y"]


def test_body_limit_still_protects_the_columnar_path(tmp_path: Path) -> None:
    servers = running_server(tmp_path, extra_args=["--max-body-mib", "0.5"])
    srv = next(servers)
    try:
        with httpx.Client(
            base_url=srv.url + "/api/v1", auth=(srv.access_key, srv.secret_key), timeout=60
        ) as c:
            t = c.post("/tasks", json={"name": "t", "project": "p", "status": "in_progress"}).json()
            iters = list(range(30_000))
            ev = columnar(iters, [math.pi * i for i in iters])
            resp = c.post(f"/tasks/{t['id']}/events", json={"batch_id": "b", "events": [ev]})
            assert_error(resp, 413, "payload_too_large")
            assert c.get(f"/tasks/{t['id']}/scalars").json() == {}
            small = columnar(iters[:1000], [float(i) for i in iters[:1000]])
            ok = c.post(f"/tasks/{t['id']}/events", json={"batch_id": "b", "events": [small]})
            assert ok.json() == {"accepted": 1000, "duplicate": False}
    finally:
        next(servers, None)


def test_openapi_documents_the_columnar_event(http: httpx.Client) -> None:
    doc = http.get("/openapi.json").json()
    body = doc["paths"]["/api/v1/tasks/{task_id}/events"]["post"]["requestBody"]
    text = json.dumps(body)
    assert '"scalars"' in text and '"iters"' in text and "$defs" not in text
