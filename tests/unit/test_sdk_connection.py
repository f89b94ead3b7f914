"""The SDK's connections (stdlib for the run's sender, httpx for reads) and fewer
requests at exit."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from hydratrack.sdk.sender import Sender
from hydratrack.sdk.spool import SpoolTransport
from hydratrack.sdk.transport import MockTransport

TID = "c" * 32


def run_python(code: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYDRATRACK_")}
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_sender_client_is_stdlib_and_reader_is_httpx() -> None:
    out = run_python("""
        import sys
        from hydratrack.sdk.connection import open_client, open_reader
        sender = open_client()
        print(sender.backend, "httpx" in sys.modules)
        reader = open_reader()
        print(reader.backend, "httpx" in sys.modules)
    """)
    assert out.splitlines() == ["stdlib False", "httpx True"]


def test_sdk_reads_work_next_to_a_run(server: Any) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            (
                "from hydratrack import Task\n"
                "t = Task.init(project_name='conn', task_name='reads', auto_connect_streams=False)\n"
                "t.close()\n"
                "print(Task.get_task(task_id=t.id).get_status())"
            ),
        ],
        env=server.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "completed"
    assert "hydratrack:" not in out.stderr


# -- fewer requests: updates ride along in the create ---------------------------------
def make_sender(mock: MockTransport, tmp_path: Path) -> Sender:
    spool = SpoolTransport(tmp_path / "spool")
    return Sender(TID, lambda: mock, lambda: spool, interval=0.05)


def test_script_update_rides_in_the_create(tmp_path: Path) -> None:
    mock = MockTransport()
    sender = make_sender(mock, tmp_path)
    sender.put(
        {
            "op": "create_task",
            "body": {"name": "t", "project": "p", "tags": ["a"], "script": {"argv": []}},
        }
    )
    sender.put({"op": "update_task", "fields": {"script": {"argv": ["x=1"], "commit": "abc"}}})
    sender.put({"op": "update_task", "fields": {"tags": ["b"]}})
    sender.events.append(("scalar", "loss", "train", 0, 1.0, 1.0))
    sender.put({"op": "status", "status": "completed", "message": ""}, after_events=True)
    sender.start()
    sender.close(timeout=5)
    assert [op["op"] for op in mock.ops] == ["create_task", "events", "status"]
    body = mock.ops[0]["body"]
    assert body["script"] == {"argv": ["x=1"], "commit": "abc"}
    assert body["tags"] == ["b"] and body["name"] == "t"
    assert mock.scalars(TID) == [("loss", "train", 0, 1.0)]
    assert mock.tasks[TID]["status"] == "completed"


def test_updates_keep_their_place_behind_other_ops(tmp_path: Path) -> None:
    mock = MockTransport()
    sender = make_sender(mock, tmp_path)
    sender.put({"op": "create_task", "body": {"name": "t", "project": "p"}})
    sender.put({"op": "put_hyperparams", "section": "General", "params": {}})
    sender.put({"op": "update_task", "fields": {"script": {"argv": []}}})
    sender.put({"op": "update_task", "fields": {"comment": "c"}})
    sender.put({"op": "update_task", "fields": {"unknown_field": 1}})
    sender.put({"op": "update_task", "task_id": "d" * 32, "fields": {"comment": "other"}})
    sender.start()
    sender.close(timeout=5)
    kinds = [(op["op"], op.get("fields")) for op in mock.ops]
    assert kinds == [
        ("create_task", None),
        ("put_hyperparams", None),
        ("update_task", {"script": {"argv": []}, "comment": "c"}),
        ("update_task", {"unknown_field": 1}),
        ("update_task", {"comment": "other"}),
    ]


def test_a_folded_create_that_fails_is_spooled_whole(tmp_path: Path) -> None:
    from hydratrack.sdk.spool import spooled_tasks
    from hydratrack.sdk.transport import Unavailable

    mock = MockTransport(fail_with=Unavailable("down"), fail_count=100)
    spool = SpoolTransport(tmp_path / "spool")
    sender = Sender(TID, lambda: mock, lambda: spool, interval=0.05)
    sender.put({"op": "create_task", "body": {"name": "t", "project": "p"}})
    sender.put({"op": "update_task", "fields": {"script": {"argv": ["a"]}}})
    sender.start()
    sender.close(timeout=5)
    assert mock.ops == []
    ops = [line for line in (spool.task_dir(TID) / "ops.jsonl").read_text().splitlines() if line]
    assert len(ops) == 1 and '"argv": ["a"]' in ops[0]
    assert spooled_tasks(tmp_path / "spool")


def test_script_facts_ride_in_the_create_of_a_run(tmp_path: Path, monkeypatch: Any) -> None:
    from hydratrack.sdk import run as run_module
    from hydratrack.sdk.task import Task

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(run_module, "SCRIPT_WAIT_SECONDS", 10.0)  # a loaded machine: wait
    mock = MockTransport()
    task = Task.init(project_name="p", task_name="fold", transport=mock, auto_connect_streams=False)
    task.close()
    # the final status rides in the create too when the run ended before it was sent
    assert [op["op"] for op in mock.ops] in (["create_task"], ["create_task", "status"])
    assert mock.tasks[task.id]["status"] == "completed"
    script = mock.ops[0]["body"]["script"]
    assert script["requirements"]["pip"]["hydra_core"]  # the full facts, not the quick ones
    assert script["working_dir"] == str(tmp_path)


def test_slow_script_facts_follow_the_create(tmp_path: Path, monkeypatch: Any) -> None:
    import time

    from hydratrack.sdk import run as run_module
    from hydratrack.sdk.task import Task

    real = run_module.full_script

    def slow(base: dict[str, Any]) -> dict[str, Any]:
        time.sleep(1.0)
        return real(base)

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(run_module, "SCRIPT_WAIT_SECONDS", 0.05)
    monkeypatch.setattr(run_module, "full_script", slow)
    mock = MockTransport()
    task = Task.init(project_name="p", task_name="slow", transport=mock, auto_connect_streams=False)
    task.close()
    assert [op["op"] for op in mock.ops] == ["create_task", "update_task", "status"]
    assert "requirements" not in mock.ops[0]["body"]["script"]
    assert mock.tasks[task.id]["script"]["requirements"]["pip"]["hydra_core"]


def test_behind_a_proxy_the_sender_uses_httpx(server: Any) -> None:
    """http.client ignores proxy variables; httpx honours them (and NO_PROXY)."""
    code = (
        "import sys\nfrom hydratrack.sdk.connection import open_client\n"
        "from hydratrack import Task\n"
        "print(open_client().backend)\n"
        "t = Task.init(project_name='conn', task_name='proxy', auto_connect_streams=False)\n"
        "t.close()\n"
        "print(Task.get_task(task_id=t.id).get_status())\n"
    )
    for env, backend in (
        ({}, "stdlib"),
        ({"HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": "127.0.0.1"}, "httpx"),
        ({"http_proxy": "http://127.0.0.1:9", "no_proxy": "127.0.0.1"}, "httpx"),
    ):
        clean = {
            k: v
            for k, v in server.env().items()
            if k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
        }
        out = subprocess.run(
            [sys.executable, "-c", code],
            env={**clean, **env},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout.split() == [backend, "completed"], (env, out.stdout, out.stderr)
        assert "hydratrack:" not in out.stderr
