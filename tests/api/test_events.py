"""Events ingest (bulk, idempotent by batch id) and the scalar/console/text reads."""

from __future__ import annotations

import time
from typing import Any, Callable

import httpx

from hydratrack.client import ApiClient
from tests.api.conftest import assert_error, unique

Make = Callable[..., dict[str, Any]]


def scalars(
    n: int, metric: str = "loss", variant: str = "train", start: int = 0
) -> list[dict[str, Any]]:
    return [
        {
            "type": "scalar",
            "metric": metric,
            "variant": variant,
            "iter": i,
            "value": float(i % 97),
            "ts": 1764392400.0 + i,
        }
        for i in range(start, start + n)
    ]


def test_big_batch_and_duplicate(api: ApiClient, make_task: Make) -> None:
    t = make_task(status="in_progress")
    batch = unique("b")
    t0 = time.monotonic()
    assert api.post_events(t["id"], batch, scalars(10_000)) == {
        "accepted": 10_000,
        "duplicate": False,
    }
    assert time.monotonic() - t0 < 10
    assert api.post_events(t["id"], batch, scalars(5)) == {"accepted": 0, "duplicate": True}
    full = api.get_scalars(t["id"], max_points=20_000)
    assert full["loss"]["train"]["x"] == list(range(10_000))
    assert full["loss"]["train"]["y"] == [float(i % 97) for i in range(10_000)]


def test_downsampling_keeps_extremes(api: ApiClient, make_task: Make) -> None:
    t = make_task(status="in_progress")
    points = scalars(5000)
    points[1234]["value"] = 1e6  # a spike must survive
    points[4321]["value"] = -1e6
    api.post_events(t["id"], unique("b"), points)
    down = api.get_scalars(t["id"], max_points=200)["loss"]["train"]
    assert len(down["x"]) <= 200 and len(down["x"]) > 100
    assert 1e6 in down["y"] and -1e6 in down["y"]
    assert down["x"] == sorted(down["x"])
    assert len(api.get_scalars(t["id"])["loss"]["train"]["x"]) <= 2000
    by_time = api.get_scalars(t["id"], x_axis="time", max_points=20_000)["loss"]["train"]
    assert by_time["x"][:2] == [1764392400.0, 1764392401.0]


def test_metrics_filter_and_last(api: ApiClient, http: httpx.Client, make_task: Make) -> None:
    t = make_task(status="in_progress")
    api.post_events(t["id"], unique("b"), scalars(3) + scalars(2, "acc", "val"))
    api.post_events(t["id"], unique("b"), scalars(2, start=3))
    assert set(api.get_scalars(t["id"], metrics="acc")) == {"acc"}
    assert set(api.get_scalars(t["id"], metrics="loss/train,acc/val")) == {"loss", "acc"}
    assert api.get_scalars(t["id"], metrics="loss/other") == {}
    last = http.get(f"/tasks/{t['id']}/scalars/last").json()
    assert last["loss"]["train"] == {"value": 4.0, "iter": 4, "min": 0.0, "max": 4.0}
    assert last["acc"]["val"] == {"value": 1.0, "iter": 1, "min": 0.0, "max": 1.0}


def test_console_seq_and_paging(api: ApiClient, http: httpx.Client, make_task: Make) -> None:
    t = make_task(status="in_progress")
    lines = [
        {
            "type": "console",
            "text": f"line {i}\n",
            "stream": "stderr" if i == 2 else "stdout",
            "ts": 1.0 + i,
        }
        for i in range(5)
    ]
    api.post_events(t["id"], unique("b"), lines[:3])
    api.post_events(t["id"], unique("b"), lines[3:])
    got = api.get_console(t["id"])
    assert [i["seq"] for i in got["items"]] == [0, 1, 2, 3, 4] and got["next_after"] == 4
    assert got["items"][2] == {"seq": 2, "ts": 3.0, "stream": "stderr", "text": "line 2\n"}
    page = api.get_console(t["id"], after=1, limit=2)
    assert [i["text"] for i in page["items"]] == ["line 2\n", "line 3\n"]
    assert page["next_after"] == 3
    assert api.get_console(t["id"], after=4) == {"items": [], "next_after": 4}
    desc = http.get(f"/tasks/{t['id']}/console", params={"order": "desc", "limit": 2}).json()
    assert [i["seq"] for i in desc["items"]] == [4, 3]


def test_texts(api: ApiClient, http: httpx.Client, make_task: Make) -> None:
    t = make_task()
    api.post_events(
        t["id"],
        unique("b"),
        [{"type": "text", "title": "notes", "text": "hello", "iter": 2, "ts": 5.0}],
    )
    assert http.get(f"/tasks/{t['id']}/texts").json() == {
        "items": [{"title": "notes", "text": "hello", "iter": 2, "ts": 5.0}]
    }


def test_events_refused_after_end_window(
    api: ApiClient, http: httpx.Client, make_task: Make
) -> None:
    t = make_task(status="in_progress")
    api.set_status(t["id"], "completed")
    # a final flush right after the end still lands
    assert api.post_events(t["id"], unique("b"), scalars(1))["accepted"] == 1
    api.publish_task(t["id"])
    assert_error(
        http.post(f"/tasks/{t['id']}/events", json={"batch_id": "x", "events": []}),
        409,
        "conflict",
        "published",
    )
    q = make_task()
    api.enqueue_task(q["id"])
    assert_error(
        http.post(f"/tasks/{q['id']}/events", json={"batch_id": "x", "events": []}),
        409,
        "conflict",
        "queued",
    )
    api.dequeue_task(q["id"])


def test_bad_events_store_nothing(api: ApiClient, http: httpx.Client, make_task: Make) -> None:
    t = make_task(status="in_progress")
    url = f"/tasks/{t['id']}/events"
    good = scalars(2)
    bad = good + [
        {"type": "scalar", "metric": "loss", "variant": "train", "iter": "x", "value": 1.0}
    ]
    err = assert_error(
        http.post(url, json={"batch_id": "b1", "events": bad}), 422, "validation_error"
    )
    assert any(d["field"].startswith("body.events.2") for d in err["details"])
    assert_error(
        http.post(url, json={"batch_id": "b1", "events": [{"type": "video"}]}),
        422,
        "validation_error",
    )
    assert_error(http.post(url, json={"events": good}), 422, "validation_error", "batch_id")
    assert_error(
        http.post(
            url,
            json={
                "batch_id": "b1",
                "events": [{"type": "console", "text": "x", "stream": "stdin"}],
            },
        ),
        422,
        "validation_error",
    )
    assert api.get_scalars(t["id"]) == {}
    # the batch id was not used up by the refused requests
    assert api.post_events(t["id"], "b1", good)["accepted"] == 2
    assert_error(
        http.post("/tasks/" + "e" * 32 + "/events", json={"batch_id": "b", "events": []}),
        404,
        "not_found",
    )
    assert_error(
        http.get(f"/tasks/{t['id']}/scalars", params={"x_axis": "epoch"}),
        400,
        "bad_request",
        "x_axis",
    )
    assert_error(
        http.get(f"/tasks/{t['id']}/scalars", params={"max_points": 0}), 400, "bad_request"
    )
    assert_error(http.get(f"/tasks/{t['id']}/console", params={"after": "z"}), 400, "bad_request")
    for path in ("scalars", "scalars/last", "console", "texts"):
        assert_error(http.get(f"/tasks/{'e' * 32}/{path}"), 404, "not_found")


def test_nan_and_infinity_are_kept(api: ApiClient, http: httpx.Client, make_task: Make) -> None:
    import json

    t = make_task(status="in_progress")
    values = [1.0, float("nan"), float("inf"), 0.5, float("-inf")]
    body = {
        "batch_id": unique("b"),
        "events": [
            {"type": "scalar", "metric": "loss", "variant": "train", "iter": i, "value": v}
            for i, v in enumerate(values)
        ],
    }
    resp = http.post(
        f"/tasks/{t['id']}/events",
        content=json.dumps(body),
        headers={"content-type": "application/json"},
    )
    assert resp.status_code == 200 and resp.json()["accepted"] == 5
    got = api.request("GET", f"/tasks/{t['id']}/scalars").json()["loss"]["train"]  # the wire
    assert got == {"x": [0, 1, 2, 3, 4], "y": [1.0, "NaN", "Infinity", 0.5, "-Infinity"]}
    last = http.get(f"/tasks/{t['id']}/scalars/last").json()["loss"]["train"]
    assert last == {"value": "-Infinity", "iter": 4, "min": "-Infinity", "max": "Infinity"}
    assert len(api.get_scalars(t["id"], max_points=2)["loss"]["train"]["y"]) <= 2


def test_big_series_is_reduced_in_the_database(api: ApiClient, make_task: Make) -> None:
    t = make_task(status="in_progress")
    points = scalars(50_000, start=7)
    for i, p in enumerate(points):
        p["value"] = float((i * 7919) % 1000) / 10
    points[31_337]["value"] = 1e9  # global extremes, once each
    points[2]["value"] = -1e9
    api.post_events(t["id"], unique("b"), points)
    for max_points, x_axis in ((200, "iter"), (1000, "time"), (3, "iter")):
        got = api.get_scalars(t["id"], max_points=max_points, x_axis=x_axis)["loss"]["train"]
        xs, ys = got["x"], got["y"]
        assert 2 <= len(xs) == len(ys) <= max_points
        assert xs == sorted(xs)
        assert 1e9 in ys and -1e9 in ys
        if max_points >= 4:  # room for the ends
            first, last = points[0], points[-1]
            key = "iter" if x_axis == "iter" else "ts"
            assert (xs[0], ys[0]) == (first[key], first["value"])
            assert (xs[-1], ys[-1]) == (last[key], last["value"])
        by_x = {p["iter" if x_axis == "iter" else "ts"]: p["value"] for p in points}
        assert all(by_x[x] == y for x, y in zip(xs, ys, strict=True))  # real points only
