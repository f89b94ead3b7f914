"""``hydratrack queues …`` / ``workers list``: the real command against a real server."""

from __future__ import annotations

import secrets

from hydratrack.client import ApiClient
from tests.cli.runner import run_cli
from tests.support.servers import ServerProcess


def test_queue_policy_from_the_command_line(server: ServerProcess, api: ApiClient) -> None:
    env = server.env()
    name = "cli-" + secrets.token_hex(4)
    made = run_cli(
        ["queues", "create", name, "--lost-worker", "requeue", "--retries", "2", "--json"], env
    ).json()
    assert (made["lost_worker_policy"], made["lost_worker_retries"]) == ("requeue", 2)
    assert api.get_queue(name)["lost_worker_retries"] == 2
    table = run_cli(["queues", "list"], env).ok().stdout
    assert any(name in line and "requeue (up to 2 times)" in line for line in table.splitlines())
    listed = run_cli(["queues", "list", "--json"], env).json()["items"]
    assert [q["lost_worker_policy"] for q in listed if q["name"] == name] == ["requeue"]

    line = run_cli(["queues", "update", name, "--retries", "4"], env).ok().stdout
    assert line.strip() == f"updated queue {name}: lost worker -> requeue (up to 4 times)"
    line = run_cli(["queues", "update", name, "--lost-worker", "fail"], env).ok().stdout
    assert line.strip() == f"updated queue {name}: lost worker -> fail"
    assert api.get_queue(name)["lost_worker_policy"] == "fail"

    bad = run_cli(["queues", "update", name, "--lost-worker", "retry"], env)
    assert bad.returncode == 2 and "retry" in bad.stderr
    assert run_cli(["queues", "update", name], env).returncode == 2  # nothing to change
    assert run_cli(["queues", "create", name, "--retries", "101"], env).returncode == 2
    run_cli(["queues", "update", "no-such-queue", "--retries", "1"], env).one_line_error(
        "queue no-such-queue", "not found"
    )
    assert run_cli(["queues", "delete", name], env).ok().stdout.strip() == f"deleted queue {name}"
    assert name not in [q["name"] for q in api.list_queues()["items"]]


def test_workers_list(server: ServerProcess, api: ApiClient) -> None:
    name = "cli-worker-" + secrets.token_hex(4)
    worker = api.register_worker(name, ["default"])
    try:
        listed = run_cli(["workers", "list", "--json"], server.env()).json()["items"]
        assert [w["queues"] for w in listed if w["id"] == worker["id"]] == [["default"]]
        table = run_cli(["workers", "list"], server.env()).ok().stdout
        assert any(name in line and worker["id"] in line for line in table.splitlines())
    finally:
        api.unregister_worker(worker["id"])
