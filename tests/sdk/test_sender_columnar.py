"""The sender's columnar batches (#6): grouping, offline spool + sync in the new format,
and a spool written in the previous per-point format still uploads."""

from __future__ import annotations

import collections
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

from hydratrack.client import ApiClient
from hydratrack.sdk.sender import batch_events
from hydratrack.sdk.transport import split_batch
from tests.support.servers import ServerProcess, running_server

SCRIPT = """
import math, sys
from hydratrack import Task
task = Task.init(project_name="columnar", task_name="offline")
log = task.get_logger()
print("TASK", task.id, flush=True)
n = int(sys.argv[1])
for i in range(n):
    log.report_scalar("loss", "train", value=1.0 / (1 + i), iteration=i)
    if i % 3 == 0:
        log.report_scalar("acc", "val", value=math.nan if i == 30 else i / n, iteration=i)
print("done")
"""


def run_offline(server: ServerProcess, tmp_path: Path, n: int) -> str:
    script = tmp_path / "report.py"
    script.write_text(SCRIPT)
    proc = subprocess.run(
        [sys.executable, str(script), str(n)],
        cwd=tmp_path,
        env=server.env(HYDRATRACK_OFFLINE="1"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split("TASK ", 1)[1].split()[0]


def sync(server: ServerProcess) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "hydratrack", "sync"],
        env=server.env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr


def spool_ops(server: ServerProcess, task_id: str) -> Path:
    return server.home / ".hydratrack" / "spool" / task_id / "ops.jsonl"


def expect_uploaded(api: ApiClient, task_id: str, n: int) -> None:
    got = api.get_scalars(task_id, max_points=100_000)
    assert got["loss"]["train"] == {"x": list(range(n)), "y": [1.0 / (1 + i) for i in range(n)]}
    accs = list(range(0, n, 3))
    acc = got["acc"]["val"]
    assert acc["x"] == accs and len(acc["y"]) == len(accs)
    for i, y in zip(accs, acc["y"], strict=True):  # the client reads "NaN" as a float
        assert math.isnan(y) if i == 30 else y == i / n
    assert api.get_task(task_id)["status"] == "completed"


def test_batch_events_groups_points_per_series() -> None:
    queue: list[tuple[Any, ...]] = [
        ("scalar", "loss", "train", 0, 1.0, 10.0),
        ("console", "stdout", "a\n", 10.5),
        ("scalar", "acc", "val", 0, math.inf, 11.0),
        ("scalar", "loss", "train", 1, 0.5, 12.25),
        ("text", "notes", "hi", 2, 13.0),
        ("scalar", "loss", "train", 1, math.nan, 14.000001),  # a repeated iteration stays
        ("scalar", "loss", "train", 9, 0.1, 15.0),
    ]
    pending = collections.deque(queue)
    evs = batch_events(pending, max_points=6)
    assert list(pending) == [queue[-1]]  # at most max_points events taken
    assert evs == [
        {"type": "console", "stream": "stdout", "text": "a\n", "ts": 10.5},
        {"type": "text", "title": "notes", "text": "hi", "iter": 2, "ts": 13.0},
        {
            "type": "scalars",
            "metric": "loss",
            "variant": "train",
            "iters": [0, 1, 1],
            "values": [1.0, 0.5, "NaN"],
            "ts_us": [10_000_000, 12_250_000, 14_000_001],
        },
        {
            "type": "scalars",
            "metric": "acc",
            "variant": "val",
            "iters": [0],
            "values": ["Infinity"],
            "ts_us": [11_000_000],
        },
    ]
    json.dumps(evs, allow_nan=False)  # strict JSON
    assert batch_events(pending, max_points=10) == [  # one series only: the fast path
        {
            "type": "scalars",
            "metric": "loss",
            "variant": "train",
            "iters": [9],
            "values": [0.1],
            "ts_us": [15_000_000],
        }
    ]
    assert batch_events(pending, max_points=10) == []
    pending.extend(("scalar", "m", "v", i, float(i), 1.5) for i in range(5))
    pending.append(("scalar", "m", "other", 7, -math.inf, 2.0))
    assert batch_events(pending, max_points=100) == [
        {
            "type": "scalars",
            "metric": "m",
            "variant": "v",
            "iters": [0, 1, 2, 3, 4],
            "values": [0.0, 1.0, 2.0, 3.0, 4.0],
            "ts_us": [1_500_000] * 5,
        },
        {
            "type": "scalars",
            "metric": "m",
            "variant": "other",
            "iters": [7],
            "values": ["-Infinity"],
            "ts_us": [2_000_000],
        },
    ]


def test_offline_run_spools_columnar_batches_and_syncs(
    server: ServerProcess, api: ApiClient, tmp_path: Path
) -> None:
    n = 60_001
    task_id = run_offline(server, tmp_path, n)
    ops = [json.loads(line) for line in spool_ops(server, task_id).read_text().splitlines()]
    batches = [op for op in ops if op["op"] == "events"]
    kinds = {e["type"] for op in batches for e in op["events"]}
    assert "scalars" in kinds and "scalar" not in kinds
    assert all(sum(len(e.get("iters", [0])) for e in op["events"]) <= 50_000 for op in batches)
    sync(server)
    expect_uploaded(api, task_id, n)


def test_spool_of_the_previous_format_still_uploads(
    server: ServerProcess, api: ApiClient, tmp_path: Path
) -> None:
    """A spool as the SDK wrote it before columnar batches: one object per point."""
    n = 3000
    task_id = run_offline(server, tmp_path, n)
    path = spool_ops(server, task_id)
    old_lines = []
    for line in path.read_text().splitlines():
        op = json.loads(line)
        if op["op"] == "events":
            per_point = []
            for e in op["events"]:
                if e["type"] != "scalars":
                    per_point.append(e)
                    continue
                per_point += [
                    {
                        "type": "scalar",
                        "metric": e["metric"],
                        "variant": e["variant"],
                        "iter": i,
                        "value": v,
                        "ts": t / 1e6,
                    }
                    for i, v, t in zip(e["iters"], e["values"], e["ts_us"], strict=True)
                ]
            for start in range(0, len(per_point), 2000):  # the old 2000-event batches
                old_lines.append(
                    json.dumps(
                        {
                            **op,
                            "batch_id": f"{op['batch_id']}-{start}",
                            "events": per_point[start : start + 2000],
                        }
                    )
                )
        else:
            old_lines.append(line)
    assert any('"type": "scalar",' in ln for ln in old_lines)
    assert not any('"scalars"' in ln for ln in old_lines)
    path.write_text("\n".join(old_lines) + "\n")
    sync(server)
    expect_uploaded(api, task_id, n)


def test_batches_split_for_a_server_with_a_small_body_limit(tmp_path: Path) -> None:
    """A 50k-point batch is ~2 MB; a server started with a smaller --max-body-mib answers
    413, and the sender sends halves (new batch ids) until they fit: nothing is lost."""
    servers = running_server(tmp_path, extra_args=["--max-body-mib", "0.25"])
    srv = next(servers)
    try:
        script = tmp_path / "report.py"
        script.write_text(SCRIPT)
        n = 20_000
        proc = subprocess.run(
            [sys.executable, str(script), str(n)],
            cwd=tmp_path,
            env=srv.env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        assert "warning" not in proc.stderr, proc.stderr
        task_id = proc.stdout.split("TASK ", 1)[1].split()[0]
        with srv.client() as api:
            expect_uploaded(api, task_id, n)
    finally:
        next(servers, None)


def test_sync_splits_a_spooled_batch_for_a_server_with_a_small_body_limit(tmp_path: Path) -> None:
    """A run spooled offline in 50k-point batches (~2 MB) is synced to a server that takes at
    most 0.25 MiB: the sync sends halves until they fit, and everything lands once."""
    servers = running_server(tmp_path, extra_args=["--max-body-mib", "0.25"])
    srv = next(servers)
    try:
        n = 60_001
        task_id = run_offline(srv, tmp_path, n)
        spool_dir = spool_ops(srv, task_id).parent
        sync(srv)
        assert not spool_dir.exists()  # every op delivered, none recorded as refused
        with srv.client() as api:
            expect_uploaded(api, task_id, n)
    finally:
        next(servers, None)


def test_split_batch_ids_are_the_same_when_made_again() -> None:
    op = {
        "op": "events",
        "task_id": "t",
        "batch_id": "b" * 32,
        "events": [
            {
                "type": "scalars",
                "metric": "m",
                "variant": "v",
                "iters": [1, 2, 3, 4],
                "values": [1.0, 2.0, 3.0, 4.0],
                "ts_us": [1, 2, 3, 4],
            },
            {"type": "console", "stream": "stdout", "text": "x\n", "ts": 1.0},
        ],
    }
    first, again = split_batch(op), split_batch(op)
    assert first == again and first is not None
    assert [h["batch_id"] for h in first] == ["b" * 32 + ".0", "b" * 32 + ".1"]
    points = [i for h in first for e in h["events"] if e["type"] == "scalars" for i in e["iters"]]
    assert points == [1, 2, 3, 4]
    assert sum(e["type"] == "console" for h in first for e in h["events"]) == 1
