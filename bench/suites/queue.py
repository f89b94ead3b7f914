"""Suite 4: enqueue -> agent started the child; console line printed -> readable via API.

A real ``hydratrack agent`` long-polls a bench queue. Each round creates a draft whose
script is ``apps/queue_probe.py`` (no Hydra, so the agent runs it as is), enqueues it and
reads the probe's own wall-clock stamps. "Started" is the probe's first Python statement,
so the figure includes interpreter start-up, measured on its own as a reference.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

from bench.context import APPS_DIR, Context
from bench.measure import Figure


def _python_startup(reps: int) -> list[float]:
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        out.append((time.perf_counter() - t0) * 1e3)
    return out


def _wait(predicate, timeout: float, what: str, step: float = 0.005):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise RuntimeError(f"timed out after {timeout} s waiting for {what}")


def run(ctx: Context) -> None:
    reps = 3 if ctx.quick else 12
    server = ctx.server
    work = ctx.scratch("queue")
    api = server.client()
    queue = "bench-" + uuid.uuid4().hex[:6]
    api.request("POST", "/queues", json={"name": queue})
    log = open(work / "agent.log", "wb")
    agent = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hydratrack",
            "agent",
            "--queue",
            queue,
            "--name",
            queue,
            "--workdir",
            str(work / "agent"),
        ],
        env=server.env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    start_ms, console_ms = [], []
    try:
        _wait(
            lambda: any(w["name"] == queue for w in api.request("GET", "/workers").json()["items"]),
            60,
            "agent to register",
        )
        time.sleep(0.5)  # let it enter its long-poll
        for rnd in range(reps + 1):  # round 0 warms up
            stamp, token = work / f"stamp-{rnd}.json", uuid.uuid4().hex
            task = api.create_task(
                {
                    "name": f"queue probe {rnd}",
                    "project": "bench",
                    "script": {
                        "entry_point": "queue_probe.py",
                        "working_dir": str(APPS_DIR),
                        "argv": [str(stamp), token],
                    },
                }
            )
            t_enqueue = time.time()
            api.request("POST", f"/tasks/{task['id']}/enqueue", json={"queue": queue})

            task_id = task["id"]
            # the agent's own "[hydratrack agent] command: ..." line holds the token too
            line = f"probe line {token}"

            def seen(task_id: str = task_id, line: str = line) -> float | None:
                items = api.request("GET", f"/tasks/{task_id}/console").json()["items"]
                return time.time() if any(line in i["text"] for i in items) else None

            def stamped(stamp: Path = stamp) -> dict | None:
                try:
                    return json.loads(stamp.read_text())
                except (FileNotFoundError, ValueError):  # not yet (completely) written
                    return None

            def ended(task_id: str = task_id) -> bool:
                return api.get_task(task_id)["status"] in ("completed", "failed")

            t_seen = _wait(seen, 60, "the probe's console line")
            stamps = _wait(stamped, 30, "the probe's stamp")
            _wait(ended, 60, "the probe to end")
            status = api.get_task(task["id"])["status"]
            if status != "completed":
                raise RuntimeError(f"probe task {task['id']} {status}")
            if rnd:
                start_ms.append((stamps["started"] - t_enqueue) * 1e3)
                console_ms.append((t_seen - stamps["printed"]) * 1e3)
            time.sleep(0.3)  # the agent goes back to its long-poll
    finally:
        agent.terminate()
        try:
            agent.wait(30)
        except subprocess.TimeoutExpired:
            agent.kill()
        log.close()
        api.close()
    ctx.add(
        Figure(
            "queue",
            "queue: python -c pass (interpreter start, reference)",
            _python_startup(reps),
            "ms",
        )
    )
    ctx.add(
        Figure(
            "queue",
            "queue: enqueue → child's first statement",
            start_ms,
            "ms",
            goal=500.0,
            note="includes interpreter start",
        )
    )
    ctx.add(
        Figure(
            "queue",
            "queue: console line printed → readable via API",
            console_ms,
            "ms",
            goal=1000.0,
            note="polled every 5 ms",
        )
    )
