"""The background sender and the transports, driven through MockTransport and a real spool."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from hydratrack.sdk.sender import Sender
from hydratrack.sdk.spool import SpoolTransport, replay, spooled_tasks
from hydratrack.sdk.transport import (
    MockTransport,
    Op,
    Rejected,
    Unauthorized,
    Unavailable,
    describe,
)

TID = "a" * 32


def scalar(i: int) -> tuple[Any, ...]:
    return ("scalar", "loss", "train", i, float(i), 1.0)


def make_sender(transport: Any, tmp_path: Path, **kw: Any) -> tuple[Sender, SpoolTransport]:
    spool = SpoolTransport(tmp_path / "spool")
    sender = Sender(TID, lambda: transport, lambda: spool, interval=0.05, **kw)
    return sender, spool


def test_batches_are_bounded_by_size_and_keep_order(tmp_path: Path) -> None:
    mock = MockTransport()
    sender, _ = make_sender(mock, tmp_path, max_batch=100)
    sender.put({"op": "create_task", "body": {"name": "t", "project": "p"}})
    for i in range(450):
        sender.events.append(scalar(i))
    sender.start()
    sender.close(timeout=5)
    batches = [op for op in mock.ops if op["op"] == "events"]
    assert [len(b["events"][0]["iters"]) for b in batches] == [100, 100, 100, 100, 50]
    assert mock.ops[0]["op"] == "create_task"
    assert [s[2] for s in mock.scalars(TID)] == list(range(450))


def test_time_bound_delivers_without_close(tmp_path: Path) -> None:
    mock = MockTransport()
    sender, _ = make_sender(mock, tmp_path)
    sender.start()
    sender.events.append(scalar(1))
    deadline = time.monotonic() + 3
    while not mock.scalars(TID) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert mock.scalars(TID) == [("loss", "train", 1, 1.0)]
    sender.close()


def test_retry_after_unavailable_reuses_the_batch_id(tmp_path: Path) -> None:
    class Flaky(MockTransport):
        def __init__(self) -> None:
            super().__init__()
            self.attempts: list[str] = []

        def send(self, op: Op) -> None:
            if op["op"] == "events":
                self.attempts.append(op["batch_id"])
                if len(self.attempts) <= 2:
                    raise Unavailable("down for a moment")
            super().send(op)

    flaky = Flaky()
    sender, spool = make_sender(flaky, tmp_path)
    sender.events.append(scalar(7))
    sender.start()
    assert sender.flush(10)
    sender.close()
    assert len(flaky.attempts) == 3 and len(set(flaky.attempts)) == 1
    assert flaky.scalars(TID) == [("loss", "train", 7, 7.0)]
    assert spool.count == 0


def test_unauthorized_switches_to_spool_with_one_warning(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    mock = MockTransport(fail_with=Unauthorized("unauthorized"), fail_count=1000)
    sender, spool = make_sender(mock, tmp_path)
    sender.put({"op": "create_task", "body": {"name": "t", "project": "p"}})
    for i in range(3):
        sender.events.append(scalar(i))
    sender.start()
    sender.flush(5)
    sender.put({"op": "status", "status": "completed"})
    sender.close()
    err = capfd.readouterr().err
    assert err.count("hydratrack: warning") == 1 and "rejected the API credentials" in err
    ops = [
        json.loads(line) for line in (spool.task_dir(TID) / "ops.jsonl").read_text().splitlines()
    ]
    assert [o["op"] for o in ops] == ["create_task", "events", "status"]


def test_unreachable_at_exit_spools_at_once(tmp_path: Path) -> None:
    mock = MockTransport(fail_with=Unavailable("connection refused"), fail_count=1000)
    sender, spool = make_sender(mock, tmp_path)
    sender.start()
    sender.events.append(scalar(1))
    start = time.monotonic()
    sender.close(timeout=2)
    assert time.monotonic() - start < 2.5
    assert spool.count >= 1 and sender.spooling


def test_rejected_op_warns_and_the_run_goes_on(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    class Picky(MockTransport):
        def send(self, op: Op) -> None:
            if op["op"] == "put_configuration":
                raise Rejected("not valid YAML", "invalid_edit")
            super().send(op)

    picky = Picky()
    sender, _ = make_sender(picky, tmp_path)
    sender.put({"op": "put_configuration", "name": "X", "value": ":", "type": "yaml"})
    sender.events.append(scalar(2))
    sender.start()
    sender.close()
    assert "server refused configuration object 'X'" in capfd.readouterr().err
    assert picky.scalars(TID) == [("loss", "train", 2, 2.0)]


CREATE: Op = {"op": "create_task", "body": {"name": "t", "project": "p", "status": "in_progress"}}
FINAL: Op = {"op": "status", "status": "failed", "message": "exit code 1: boom"}


def test_a_run_that_ends_before_its_create_is_sent_is_created_finished(tmp_path: Path) -> None:
    mock = MockTransport()
    sender, _ = make_sender(mock, tmp_path)
    sender.put(dict(CREATE))
    sender.put({"op": "update_task", "fields": {"script": {"argv": ["a=1"]}}})
    sender.put(dict(FINAL), after_events=True)
    sender.start()
    sender.close(timeout=5)
    assert [op["op"] for op in mock.ops] == ["create_task"]  # one request for the run
    body = mock.ops[0]["body"]
    assert (body["status"], body["status_message"], body["script"]) == (
        "failed",
        "exit code 1: boom",
        {"argv": ["a=1"]},
    )


def test_the_senders_final_statuses_are_the_shared_run_outcomes() -> None:
    from hydratrack.sdk.sender import FINAL_STATUSES
    from hydratrack.status import RUN_OUTCOME_VALUES

    assert FINAL_STATUSES == RUN_OUTCOME_VALUES


@pytest.mark.parametrize("hydra_loaded", [False, True])
def test_an_exiting_run_waits_briefly_for_its_status_to_fold_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hydra_loaded: bool
) -> None:
    """The create is ready (after slow script facts) while close() is still on its way
    to put the final status (20 ms late here): the create waits for it (up to FINAL_WAIT_SECONDS). Also when Hydra
    is loaded but no job runs, where close() itself releases the held create."""
    from hydratrack.sdk import sender as sender_module
    from hydratrack.sdk.task import Task

    if hydra_loaded:
        import hydra  # noqa: F401 - Task.init then holds its ops for a job to start
    else:
        monkeypatch.delitem(sys.modules, "hydra", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sender_module, "FINAL_WAIT_SECONDS", 2.0)  # a loaded machine: wait
    from hydratrack.sdk import run as run_module

    real_script, real_put = run_module.full_script, Sender.put

    def slow_script(base: dict[str, Any]) -> dict[str, Any]:
        time.sleep(0.1)  # the create is built only after close() has begun
        return real_script(base)

    def late_status(self: Sender, op: Op, after_events: bool = False) -> None:
        if op.get("op") == "status":
            time.sleep(0.02)
        real_put(self, op, after_events)

    monkeypatch.setattr(run_module, "full_script", slow_script)
    monkeypatch.setattr(Sender, "put", late_status)
    mock = MockTransport()
    task = Task.init(project_name="p", task_name="fold", transport=mock, auto_connect_streams=False)
    task.close()
    assert [op["op"] for op in mock.ops] == ["create_task"]
    assert mock.ops[0]["body"]["status"] == "completed"


def test_a_final_status_waits_for_the_events_before_it(tmp_path: Path) -> None:
    mock = MockTransport()
    sender, _ = make_sender(mock, tmp_path)
    sender.put(dict(CREATE))
    sender.events.append(("console", "stdout", "last words\n", 1.0))
    sender.put(dict(FINAL), after_events=True)
    sender.start()
    sender.close(timeout=5)
    assert [op["op"] for op in mock.ops] == ["create_task", "events", "status"]
    assert mock.ops[0]["body"]["status"] == "in_progress"
    assert mock.tasks[TID]["status"] == "failed"


def test_an_offline_run_spools_its_final_status_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``hydratrack sync`` may replay the spool to a server from before POST /tasks took a
    final status: an offline run keeps create and status apart."""
    from hydratrack.sdk.task import Task

    monkeypatch.setenv("HYDRATRACK_OFFLINE", "1")
    monkeypatch.setenv("HYDRATRACK_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.chdir(tmp_path)
    task = Task.init(project_name="p", task_name="offline", auto_connect_streams=False)
    task.close()
    lines = (tmp_path / "spool" / task.id / "ops.jsonl").read_text().splitlines()
    ops = [json.loads(line) for line in lines]
    assert [(op["op"], op.get("body", {}).get("status", op.get("status"))) for op in ops] == [
        ("create_task", "in_progress"),
        ("status", "completed"),
    ]


def test_a_finished_create_that_falls_back_to_the_spool_is_spooled_apart(tmp_path: Path) -> None:
    down = MockTransport(fail_with=Unavailable("connection refused"), fail_count=1000)
    sender, spool = make_sender(down, tmp_path)
    sender.put(dict(CREATE))
    sender.put(dict(FINAL), after_events=True)
    sender.start()
    sender.close(timeout=2)
    assert sender.spooling
    (spooled,) = spooled_tasks(tmp_path / "spool")
    assert [
        (op["op"], op.get("body", {}).get("status", op.get("status"))) for op in spooled.ops()
    ] == [("create_task", "in_progress"), ("status", "failed")]


def test_slow_server_is_abandoned_at_the_deadline_and_spooled(tmp_path: Path) -> None:
    gate = threading.Event()

    class Slow(MockTransport):
        def send(self, op: Op) -> None:
            gate.wait(10)
            super().send(op)

    sender, spool = make_sender(Slow(), tmp_path)
    sender.events.append(scalar(1))
    sender.start()
    time.sleep(0.2)
    start = time.monotonic()
    sender.close(timeout=0.5)
    assert time.monotonic() - start < 1.5
    gate.set()
    ops = (spool.task_dir(TID) / "ops.jsonl").read_text().splitlines()
    assert len(ops) == 1 and json.loads(ops[0])["op"] == "events"


def test_spool_replay_is_exactly_once(tmp_path: Path) -> None:
    spool = SpoolTransport(tmp_path)
    spool.send({"op": "create_task", "task_id": TID, "body": {"name": "t"}})
    for b in range(3):
        spool.send(
            {
                "op": "events",
                "task_id": TID,
                "batch_id": f"b{b}",
                "events": [
                    {
                        "type": "scalar",
                        "metric": "m",
                        "variant": "v",
                        "iter": b,
                        "value": 1.0,
                        "ts": 0.0,
                    }
                ],
            }
        )
    (tasks,) = list(spooled_tasks(tmp_path))
    assert tasks.pending() == 4

    class DiesAfterTwo(MockTransport):
        def send(self, op: Op) -> None:
            if len(self.ops) == 2:
                raise Unavailable("gone")
            super().send(op)

    first = DiesAfterTwo()
    with pytest.raises(Unavailable):
        replay(tasks, first)
    assert tasks.sent == 2 and tasks.pending() == 2
    second = MockTransport()
    result = replay(tasks, second)
    assert result.delivered == 2 and not result.rejected
    assert [o.get("batch_id") for o in second.ops] == ["b1", "b2"]
    assert not (tmp_path / TID).exists()


def test_spool_copies_artifacts_and_skips_a_torn_last_line(tmp_path: Path) -> None:
    src = tmp_path / "w.bin"
    src.write_bytes(b"abc")
    spool = SpoolTransport(tmp_path / "spool")
    spool.send({"op": "artifact", "task_id": TID, "name": "w", "path": str(src)})
    src.unlink()
    with open(spool.task_dir(TID) / "ops.jsonl", "a") as fh:
        fh.write('{"op": "eve')
    (task,) = list(spooled_tasks(tmp_path / "spool"))
    mock = MockTransport()
    replay(task, mock)
    assert mock.tasks[TID]["artifacts"]["w"] == b"abc"


def test_mock_transport_in_a_users_unit_test() -> None:
    from hydratrack.sdk.task import Task

    mock = MockTransport()
    task = Task.init(project_name="p", task_name="unit", transport=mock, auto_connect_streams=False)
    try:
        task.get_logger().report_scalar("loss", "train", value=0.5, iteration=1)
        task.connect({"lr": 0.1}, name="General")
    finally:
        task.close()
    assert mock.scalars(task.id) == [("loss", "train", 1, 0.5)]
    assert mock.tasks[task.id]["status"] == "completed"
    assert mock.tasks[task.id]["hyperparams"]["General"]["lr"]["value"] == "0.1"
    assert mock.tasks[task.id]["name"] == "unit"


def test_non_finite_scalars_are_sent_as_text() -> None:
    from hydratrack.sdk.sender import event_dict

    values = [
        event_dict(("scalar", "m", "v", 0, x, 0.0))["value"]
        for x in (float("nan"), float("inf"), float("-inf"), 1.5)
    ]
    assert values == ["NaN", "Infinity", "-Infinity", 1.5]


def test_init_twice_in_one_run_returns_the_same_task() -> None:
    from hydratrack.sdk.task import Task

    mock = MockTransport()
    first = Task.init(project_name="p", task_name="a", transport=mock, auto_connect_streams=False)
    try:
        assert Task.init(project_name="p", task_name="a", transport=mock) is first
        assert Task.current_task() is first
    finally:
        first.close()
    assert Task.current_task() is None


@pytest.mark.parametrize(
    ("argv", "info"),
    [
        (["app.py", "--cfg", "job"], True),
        (["app.py", "-c", "hydra", "db=x"], True),
        (["app.py", "--cfg=all"], True),
        (["app.py", "--help"], True),
        (["app.py", "-i", "config"], True),
        (["app.py", "db=x"], False),
        (["pytest", "-p", "no:cacheprovider", "-c", "setup.cfg"], False),
        (["app.py", "-q"], False),
    ],
)
def test_hydra_info_only_flags(
    argv: list[str], info: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hydratrack.sdk.run import _hydra_info_only

    monkeypatch.setattr("sys.argv", argv)
    assert _hydra_info_only() is info


def test_warnings_name_an_event_batch_by_its_points_and_events() -> None:
    columnar = {
        "type": "scalars",
        "metric": "loss",
        "variant": "train",
        "iters": [1, 2, 3],
        "values": [0.1, 0.2, 0.3],
        "ts_us": [1, 2, 3],
    }
    line = {"type": "console", "stream": "stdout", "text": "x\n", "ts": 1.0}
    assert describe({"op": "events", "events": [columnar, columnar]}) == "6 scalar points"
    assert describe({"op": "events", "events": [columnar, line]}) == "3 scalar points, 1 events"
    assert describe({"op": "events", "events": [line]}) == "1 events"
    assert describe({"op": "events", "events": []}) == "0 events"


def test_exit_deadline_with_a_server_that_hangs_spools_everything_in_order(
    tmp_path: Path,
) -> None:
    """A request that never returns (a server dying mid-flush): at the deadline close()
    spools the request in flight and everything behind it, the status last; the sender
    thread, still waiting, adds nothing and loses nothing."""
    release, hung = threading.Event(), threading.Event()

    class Hanging(MockTransport):
        def send(self, op: Op) -> None:
            if op["op"] == "events":
                hung.set()
                release.wait(30)
            super().send(op)

    sender, spool = make_sender(Hanging(), tmp_path, max_batch=1000)
    sender.put({"op": "create_task", "body": {"name": "t", "project": "p"}})
    for i in range(1000):
        sender.events.append(scalar(i))
    sender.start()
    assert hung.wait(10)  # the first batch is in flight; the rest comes while it hangs
    for i in range(1000, 5000):
        sender.events.append(scalar(i))
    sender.put({"op": "status", "status": "completed", "ended": 123.0}, after_events=True)
    sender.close(timeout=0.3)
    release.set()  # the hung request returns now: nothing more may change
    time.sleep(0.2)
    lines = [json.loads(x) for x in (spool.task_dir(TID) / "ops.jsonl").read_text().splitlines()]
    iters = [i for op in lines if op["op"] == "events" for i in op["events"][0]["iters"]]
    assert iters == list(range(5000))  # the one in flight included, once each, in order
    assert lines[-1]["op"] == "status" and lines[-1]["ended"] == 123.0
    assert [op["op"] for op in lines].count("status") == 1


def test_flush_returns_only_once_the_event_reported_before_it_is_delivered(
    tmp_path: Path,
) -> None:
    mock = MockTransport()
    sender, _ = make_sender(mock, tmp_path)
    sender.start()
    for i in range(2000):
        sender.events.append(scalar(i))
        assert sender.flush(10)
        assert len(mock.scalars(TID)) == i + 1, f"flush returned before point {i} was sent"
    sender.close()
