"""Many clients at once on one server: no errors, nothing lost, nothing duplicated."""

from __future__ import annotations

import concurrent.futures
from typing import Any

from tests.api.conftest import unique
from tests.support.servers import ServerProcess


def test_mixed_load_from_many_clients(server: ServerProcess) -> None:
    project = unique("load")

    def client_run(n: int) -> tuple[str, int]:
        with server.client() as api:
            t = api.create_task({"name": f"run-{n}", "project": project, "status": "in_progress"})
            for b in range(10):
                api.post_events(
                    t["id"],
                    f"b{b}",
                    [
                        {
                            "type": "scalar",
                            "metric": "loss",
                            "variant": "train",
                            "iter": b * 50 + i,
                            "value": float(i),
                        }
                        for i in range(50)
                    ]
                    + [{"type": "console", "text": f"{n}:{b}\n"}],
                )
                api.post_events(t["id"], f"b{b}", [{"type": "console", "text": "dup\n"}])
                api.list_tasks(project=project, limit=5)
                api.get_console(t["id"], after=b - 2)
                api.patch_hyperparams(t["id"], {"General": {f"p{b}": str(b)}})
            api.set_status(t["id"], "completed")
            return t["id"], n

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        done: list[Any] = list(pool.map(client_run, range(24)))
    with server.client() as api:
        assert api.list_tasks(project=project, status="completed")["total"] == 24
        for tid, n in done:
            console = api.get_console(tid)["items"]
            assert [i["text"] for i in console] == [f"{n}:{b}\n" for b in range(10)]
            assert [i["seq"] for i in console] == list(range(10))
            assert len(api.get_scalars(tid)["loss"]["train"]["x"]) == 500
            assert len(api.get_hyperparams(tid)["General"]) == 10
