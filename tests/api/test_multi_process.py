"""Several server processes on one database (the scale-out setup): wake-ups and claims."""

from __future__ import annotations

import concurrent.futures
import time
from pathlib import Path
from typing import Any

from tests.support.servers import running_server, start_server


def test_two_servers_share_queues(tmp_path: Path) -> None:
    servers = running_server(tmp_path)
    a = next(servers)
    b = start_server(tmp_path, db_url=a.db_url)  # same data dir / database, second start
    try:
        assert "first start" not in b.log()
        with a.client() as api_a, b.client() as api_b:
            w = api_a.register_worker("w-multi", ["default"])
            t = api_b.create_task({"name": "x", "project": "multi"})

            def wait() -> dict[str, Any] | None:
                with a.client() as c:
                    return c.claim(w["id"], timeout=15)

            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                fut = pool.submit(wait)
                time.sleep(1.0)
                started = time.monotonic()
                api_b.enqueue_task(t["id"])  # through the other process
                got = fut.result(timeout=20)
            assert got is not None and got["id"] == t["id"]
            assert time.monotonic() - started < 3.0  # seen by polling, well before timeout

            ids = []
            for i in range(10):
                task = api_b.create_task({"name": f"t{i}", "project": "multi"})
                api_b.enqueue_task(task["id"])
                ids.append(task["id"])
            workers = [(a, api_a.register_worker(f"wa{i}", ["default"])) for i in range(2)]
            workers += [(b, api_b.register_worker(f"wb{i}", ["default"])) for i in range(2)]

            def drain(pair: tuple[Any, dict[str, Any]]) -> list[str]:
                srv, worker = pair
                got = []
                with srv.client() as c:
                    while (task := c.claim(worker["id"], timeout=0)) is not None:
                        got.append(task["id"])
                return got

            with concurrent.futures.ThreadPoolExecutor(4) as pool:
                claimed = [x for part in pool.map(drain, workers) for x in part]
            assert sorted(claimed) == sorted(ids)
    finally:
        b.stop()
        servers.close()
