"""Input limits at the API boundary (server/limits.py), the same on SQLite and PostgreSQL:
deep, huge or unstorable JSON is refused with 422 naming the field and stores nothing;
program output with NUL is kept (escaped); a stored row that breaks the rule never breaks
a list; NaN/infinite scalar values are kept; an unexpected error keeps the connection."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest

from hydratrack.server import limits
from hydratrack.server.store import artifacts as artifacts_repo
from hydratrack.server.store import tasks as tasks_repo
from hydratrack.server.store.db import Database, normalize_url
from tests.api.conftest import assert_error, unique
from tests.support.servers import ServerProcess

Make = Callable[..., dict[str, Any]]


def nested(depth: int) -> dict[str, Any]:
    """``{"a": {"a": ... {"a": 1}}}``: ``depth`` objects, one inside the other."""
    out: dict[str, Any] = {"a": 1}
    for _ in range(depth - 1):
        out = {"a": out}
    return out


def nested_text(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


@pytest.fixture
def store(server: ServerProcess) -> Iterator[Database]:
    """The server's own database, opened through the store layer (to write what the API
    would never accept)."""
    db = Database(normalize_url(server.db_url or "", server.data_dir))
    yield db
    db.dispose()


def new_task(http: httpx.Client, **body: Any) -> dict[str, Any]:
    body.setdefault("name", unique("task"))
    body.setdefault("project", unique("proj"))
    resp = http.post("/tasks", json=body)
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


def assert_lists_work(http: httpx.Client) -> None:
    for query in ("", "?status=draft", "?order_by=name", "?q=task"):
        resp = http.get("/tasks" + query)
        assert resp.status_code == 200, (query, resp.text)


def field_of(err: dict[str, Any]) -> str:
    return str(err["details"][0]["field"])


# -- 1. nesting, size, numbers of JSON fields -------------------------------------------
@pytest.mark.parametrize("depth", [40, 300, 900])
def test_deep_script_is_refused_and_lists_keep_working(http: httpx.Client, depth: int) -> None:
    name = unique("deep")
    resp = http.post("/tasks", json={"name": name, "project": "p", "script": nested(depth)})
    err = assert_error(resp, 422, "validation_error", "nested deeper than")
    assert field_of(err).startswith("body.script.a.a")
    assert http.get("/tasks", params={"name": name}).json()["total"] == 0  # nothing stored
    assert_lists_work(http)


def test_deep_runtime_patch_is_refused(http: httpx.Client) -> None:
    t = new_task(http)
    resp = http.patch(f"/tasks/{t['id']}", json={"runtime": nested(300)})
    err = assert_error(resp, 422, "validation_error", "body.runtime")
    assert "nested deeper" in err["details"][0]["message"]
    assert http.get(f"/tasks/{t['id']}").json()["runtime"] == {}
    assert_lists_work(http)


def test_deeper_than_python_recursion_is_refused(http: httpx.Client) -> None:
    """(json.loads itself gives up here; still a clean 4xx, never a 500)"""
    for path, body in [
        ("/tasks", '{"name": "x", "project": "p", "script": ' + nested_text(5000) + "}"),
        ("/projects", '{"name": "x", "description": ' + nested_text(100_000) + "}"),
    ]:
        resp = http.post(path, content=body, headers={"content-type": "application/json"})
        assert resp.status_code in (400, 422), resp.text
        assert set(resp.json()) == {"error"}


def test_deep_artifact_metadata_is_refused(http: httpx.Client) -> None:
    t = new_task(http)
    for depth in (300, 900, 5000):
        resp = http.post(
            f"/tasks/{t['id']}/artifacts",
            data={"name": "model.bin", "metadata": nested_text(depth)},
            files={"file": ("model.bin", b"x")},
        )
        err = assert_error(resp, 422, "validation_error", "metadata")
        assert field_of(err).startswith("body.metadata")
    listed = http.get(f"/tasks/{t['id']}/artifacts")
    assert listed.status_code == 200 and listed.json()["items"] == []


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"script": {"seed": 2**63}}, "body.script.seed", "64-bit"),
        ({"runtime": {"x": [0, -(2**63) - 1]}}, "body.runtime.x.1", "64-bit"),
        ({"hyperparams": {"Args": {"lr": 10**30}}}, "body.hyperparams.Args.lr", "64-bit"),
        ({"hyperparams": {"Args": {"lr": {"value": 2**64}}}}, "body.hyperparams.Args.lr", ""),
        ({"script": {"big": "x" * (limits.MAX_STRING + 1)}}, "body.script.big", "longer"),
        ({"comment": "x" * (limits.MAX_STRING + 1)}, "body.comment", "longer"),
    ],
)
def test_json_values_out_of_range_are_refused(
    http: httpx.Client, body: dict[str, Any], field: str, words: str
) -> None:
    name = unique("range")
    resp = http.post("/tasks", json={"name": name, "project": "p", **body})
    err = assert_error(resp, 422, "validation_error", words)
    assert field_of(err).startswith(field), err
    assert http.get("/tasks", params={"name": name}).json()["total"] == 0


def test_non_finite_json_numbers_are_refused(http: httpx.Client) -> None:
    for value in ("NaN", "Infinity", "-Infinity"):
        body = '{"name": "x", "project": "p", "script": {"loss": %s}}' % value
        resp = http.post("/tasks", content=body, headers={"content-type": "application/json"})
        err = assert_error(resp, 422, "validation_error", "finite")
        assert field_of(err) == "body.script.loss"


def test_the_limits_hold_at_the_edge(http: httpx.Client) -> None:
    """Just inside every limit is accepted (the rule refuses only what breaks it)."""
    t = new_task(
        http,
        script={"deep": nested(limits.MAX_DEPTH - 2), "n": 2**63 - 1, "m": -(2**63)},
        comment="c" * 1000,
    )
    got = http.get(f"/tasks/{t['id']}").json()
    assert got["script"]["n"] == 2**63 - 1 and got["script"]["m"] == -(2**63)
    assert got["script"]["deep"] == nested(limits.MAX_DEPTH - 2)


# -- 2. one bad row never breaks a list ---------------------------------------------------
def test_a_stored_row_that_breaks_the_rule_is_shown_degraded(
    http: httpx.Client, store: Database
) -> None:
    bad, good = new_task(http, name=unique("bad")), new_task(http, name=unique("good"))
    with store.write() as conn:  # around the API: what an older server may have stored
        tasks_repo.touch(conn, bad["id"], runtime=nested(300))
    assert_lists_work(http)
    items = {i["id"]: i for i in http.get("/tasks", params={"limit": 1000}).json()["items"]}
    assert items[good["id"]].get("degraded") is None
    shown = items[bad["id"]]
    assert shown["runtime"] is None and shown["name"] == bad["name"]
    assert any("runtime" in note and "nested" in note for note in shown["degraded"])
    one = http.get(f"/tasks/{bad['id']}")
    assert one.status_code == 200 and one.json()["degraded"]


def test_a_row_that_cannot_be_viewed_is_listed_degraded(
    http: httpx.Client, store: Database
) -> None:
    bad = new_task(http, name=unique("unviewable"))
    with store.write() as conn:
        tasks_repo.touch(conn, bad["id"], script=[1, 2, 3])  # a list, not an object
    assert_lists_work(http)
    items = {i["id"]: i for i in http.get("/tasks", params={"limit": 1000}).json()["items"]}
    assert items[bad["id"]]["name"] == bad["name"] and items[bad["id"]]["degraded"]


def test_a_stored_artifact_that_breaks_the_rule_is_shown_degraded(
    http: httpx.Client, store: Database
) -> None:
    t = new_task(http)
    ok = http.post(f"/tasks/{t['id']}/artifacts", data={"name": "a"}, files={"file": ("a", b"1")})
    assert ok.status_code == 201, ok.text
    with store.write() as conn:
        artifacts_repo.put(
            conn,
            t["id"],
            "b",
            uri="x/y",
            size=1,
            sha256="0" * 64,
            content_type="text/plain",
            metadata=nested(900),
        )
    resp = http.get(f"/tasks/{t['id']}/artifacts")
    assert resp.status_code == 200, resp.text
    items = {i["name"]: i for i in resp.json()["items"]}
    assert items["a"].get("degraded") is None
    assert items["b"]["metadata"] is None and "metadata" in items["b"]["degraded"][0]


# -- 3. text PostgreSQL cannot store: refused in names, kept (escaped) in output -----------
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "a\x00b"}, "body.name"),
        ({"comment": "a\x00b"}, "body.comment"),
        ({"tags": ["ok", "t\x00"]}, "body.tags.1"),
        ({"project": "p\x00"}, "body.project"),
        ({"hyperparams": {"Args": {"lr": "0.1\x00"}}}, "body.hyperparams.Args.lr"),
        ({"hyperparams": {"Args": {"l\x00r": 1}}}, "body.hyperparams.Args"),
        ({"script": {"diff": "\x00"}}, "body.script.diff"),
    ],
)
def test_nul_in_a_field_is_refused(http: httpx.Client, body: dict[str, Any], field: str) -> None:
    full = {"name": unique("nul"), "project": "p", **body}
    err = assert_error(http.post("/tasks", json=full), 422, "validation_error", "NUL")
    assert field_of(err).startswith(field), err


def test_nul_in_other_bodies_is_refused(http: httpx.Client) -> None:
    t = new_task(http)
    for method, path, body in [
        ("PATCH", f"/tasks/{t['id']}", {"comment": "\x00"}),
        ("PATCH", f"/tasks/{t['id']}/hyperparams", {"Args": {"x\x00": 1}}),
        ("POST", "/projects", {"name": "p\x00"}),
        ("POST", "/queues", {"name": "q\x00"}),
    ]:
        resp = http.request(method, path, json=body)
        assert_error(resp, 422, "validation_error", "NUL")


def test_nul_in_event_names_is_refused(http: httpx.Client) -> None:
    t = new_task(http, status="in_progress")
    for event in [
        {"type": "scalar", "metric": "l\x00", "variant": "v", "iter": 0, "value": 1.0},
        {"type": "text", "title": "t\x00", "text": "x"},
    ]:
        resp = http.post(
            f"/tasks/{t['id']}/events", json={"batch_id": unique("b"), "events": [event]}
        )
        err = assert_error(resp, 422, "validation_error", "NUL")
        assert field_of(err).startswith("body.events.0")


def test_console_output_with_nul_is_kept_escaped_with_its_batch(http: httpx.Client) -> None:
    """A run printing a NUL loses nothing: the batch (points and lines) is stored, the NUL
    shown as the four characters \\x00, the same on both databases."""
    t = new_task(http, status="in_progress")
    events: list[dict[str, Any]] = [
        {
            "type": "scalars",
            "metric": "m",
            "variant": "v",
            "iters": list(range(3000)),
            "values": [0.5] * 3000,
            "ts": [1.0] * 3000,
        },
        {"type": "console", "text": "before\x00after\n", "ts": 1.0},
        {"type": "text", "title": "report", "text": "a\x00b", "ts": 1.0},
    ]
    resp = http.post(f"/tasks/{t['id']}/events", json={"batch_id": unique("b"), "events": events})
    assert resp.status_code == 200, resp.text
    assert resp.json()["accepted"] == 3002
    lines = http.get(f"/tasks/{t['id']}/console").json()["items"]
    assert [line["text"] for line in lines] == ["before\\x00after\n"]
    assert http.get(f"/tasks/{t['id']}/texts").json()["items"][0]["text"] == "a\\x00b"
    got = http.get(f"/tasks/{t['id']}/scalars", params={"max_points": 100_000}).json()
    assert len(got["m"]["v"]["y"]) == 3000
    done = http.post(f"/tasks/{t['id']}/status", json={"status": "completed"})
    assert done.status_code == 200, done.text


@pytest.mark.parametrize(
    "query",
    ["name=a%00", "q=%00", "tag=x%00", "project=p%00", "param=Args/lr=%00", "order_by=%00"],
)
def test_nul_in_a_filter_is_refused(http: httpx.Client, query: str) -> None:
    err = assert_error(http.get("/tasks?" + query), 400, "bad_request", "NUL")
    assert field_of(err) == query.split("=", 1)[0]


def test_nul_in_a_path_is_refused(http: httpx.Client) -> None:
    assert_error(http.get("/tasks/ab%00cd"), 400, "bad_request")


def test_nul_in_login_name_or_access_key_is_not_a_server_error(
    server: ServerProcess, anon: httpx.Client
) -> None:
    resp = anon.post("/auth/login", json={"username": "ad\x00min", "password": "x"})
    assert_error(resp, 422, "validation_error", "NUL")
    for key, secret in [("AK\x00", "secret"), (server.access_key + "\x00", server.secret_key)]:
        token = base64.b64encode(f"{key}:{secret}".encode()).decode()
        resp = anon.get("/tasks", headers={"authorization": f"Basic {token}"})
        assert_error(resp, 401, "unauthorized")


# -- 4. numbers ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "largest"),
    [
        ("/tasks?offset=", 2**63 - 1),
        ("/projects?offset=", 2**63 - 1),
        ("console?after=", 2**31 - 1),
    ],
)
def test_offsets_beyond_their_range_are_refused(
    http: httpx.Client, path: str, largest: int
) -> None:
    """(400 like every bad query value, docs/api.md; console seq numbers are int32)"""
    if path.startswith("console"):
        path = f"/tasks/{new_task(http)['id']}/{path}"
    for value in (largest + 1, 2**63, 10**30):
        err = assert_error(http.get(f"{path}{value}"), 400, "bad_request")
        assert field_of(err).split(".")[-1] in ("offset", "after")
    assert http.get(f"{path}{largest}").status_code == 200


@pytest.mark.parametrize("ts", ["NaN", "Infinity", "-Infinity", '"NaN"'])
def test_non_finite_times_are_refused(http: httpx.Client, ts: str) -> None:
    t = new_task(http, status="in_progress")
    for event in (
        '{"type": "scalar", "metric": "m", "variant": "v", "iter": 0, "value": 1, "ts": %s}',
        '{"type": "scalars", "metric": "m", "variant": "v", "iters": [0], "values": [1], "ts": [%s]}',
        '{"type": "console", "text": "x", "ts": %s}',
    ):
        body = '{"batch_id": "%s", "events": [%s]}' % (unique("b"), event % ts)
        resp = http.post(
            f"/tasks/{t['id']}/events", content=body, headers={"content-type": "application/json"}
        )
        err = assert_error(resp, 422, "validation_error", "finite")
        assert field_of(err).endswith(".ts") or ".ts." in field_of(err)
    assert http.get(f"/tasks/{t['id']}/scalars").json() == {}


def test_nan_and_infinite_values_are_kept(http: httpx.Client) -> None:
    t = new_task(http, status="in_progress")
    body = (
        '{"batch_id": "%s", "events": ['
        '{"type": "scalars", "metric": "loss", "variant": "train", "iters": [0, 1, 2, 3, 4],'
        ' "values": [1.5, NaN, Infinity, "-Infinity", "NaN"], "ts_us": [1, 2, 3, 4, 5]},'
        '{"type": "scalar", "metric": "loss", "variant": "val", "iter": 0, "value": NaN, "ts": 1},'
        '{"type": "scalar", "metric": "loss", "variant": "val", "iter": 1, "value": -Infinity,'
        ' "ts": 2}]}'
    ) % unique("b")
    resp = http.post(
        f"/tasks/{t['id']}/events", content=body, headers={"content-type": "application/json"}
    )
    assert resp.status_code == 200 and resp.json()["accepted"] == 7, resp.text
    got = http.get(f"/tasks/{t['id']}/scalars").json()
    assert got["loss"]["train"] == {
        "x": [0, 1, 2, 3, 4],
        "y": [1.5, "NaN", "Infinity", "-Infinity", "NaN"],
    }
    assert got["loss"]["val"]["y"] == ["NaN", "-Infinity"]
    last = http.get(f"/tasks/{t['id']}/scalars/last").json()["loss"]
    assert last["train"]["max"] == "Infinity" and last["train"]["min"] == "-Infinity"
    assert last["val"]["value"] == "-Infinity"
    listed = http.get("/tasks", params={"name": t["name"], "metrics": "loss/val"}).json()
    assert listed["items"][0]["last_metrics"] == {"loss/val": "-Infinity"}
    raw = http.get(f"/tasks/{t['id']}/scalars").text
    json.loads(raw, parse_constant=lambda c: pytest.fail(f"bare {c} in a JSON answer"))


# -- 5. an unexpected error answers 500 in the error shape and keeps the connection --------
def _request(sock: socket.socket, path: str, auth: str) -> tuple[int, bytes, dict[str, str]]:
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {auth}\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
    length = int(headers["content-length"])
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        body += chunk
    return int(lines[0].split()[1]), body, headers


def test_an_unexpected_error_keeps_the_connection(
    server: ServerProcess, http: httpx.Client, store: Database
) -> None:
    bad = new_task(http)
    with store.write() as conn:
        tasks_repo.touch(conn, bad["id"], script=[1, 2, 3])  # makes viewing it fail
    auth = base64.b64encode(f"{server.access_key}:{server.secret_key}".encode()).decode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        for _ in range(2):
            status, body, headers = _request(sock, f"/api/v1/tasks/{bad['id']}", auth)
            assert status == 500
            assert json.loads(body)["error"]["code"] == "internal_error"
            assert headers.get("connection", "").lower() != "close"
            status, body, _ = _request(sock, "/api/v1/health", auth)
            assert status == 200, body


NUL_APP = """
import hydra


@hydra.main(version_base=None, config_path=".", config_name="config")
def main(cfg):
    from hydratrack import Task

    task = Task.init(project_name="nul", task_name="prints-a-nul")
    print(f"HYDRATRACK_TASK={task.id}", flush=True)
    log = task.get_logger()
    for i in range(3000):
        log.report_scalar("loss", "train", value=float(i), iteration=i)
        if i == 100:
            print("a NUL:\\0, and on", flush=True)


if __name__ == "__main__":
    main()
"""


def test_a_run_printing_a_nul_loses_nothing(server: ServerProcess, tmp_path: Path) -> None:
    """The issue's run: one ``\\0`` printed mid-run; every point lands, the line is kept
    (escaped) and the task completes, on both databases."""
    (tmp_path / "app.py").write_text(NUL_APP)
    (tmp_path / "config.yaml").write_text("x: 1\n")
    proc = subprocess.run(
        [sys.executable, "app.py"],
        cwd=tmp_path,
        env=server.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "hydratrack: warning" not in proc.stderr, proc.stderr
    task_id = proc.stdout.split("HYDRATRACK_TASK=")[1].split()[0]
    with httpx.Client(
        base_url=server.url + "/api/v1", auth=(server.access_key, server.secret_key)
    ) as http:
        assert http.get(f"/tasks/{task_id}").json()["status"] == "completed"
        got = http.get(f"/tasks/{task_id}/scalars", params={"max_points": 100_000}).json()
        assert got["loss"]["train"]["y"] == [float(i) for i in range(3000)]
        lines = [i["text"] for i in http.get(f"/tasks/{task_id}/console").json()["items"]]
        assert any("a NUL:\\x00, and on" in line for line in lines), lines


def test_a_console_line_longer_than_the_string_limit_is_kept(http: httpx.Client) -> None:
    """Program output is never refused for its length (the body limit bounds it)."""
    t = new_task(http, status="in_progress")
    line = "x" * (limits.MAX_STRING + 10)
    event = {"type": "console", "text": line, "ts": 1.0}
    resp = http.post(f"/tasks/{t['id']}/events", json={"batch_id": unique("b"), "events": [event]})
    assert resp.status_code == 200, resp.text[:300]
    assert http.get(f"/tasks/{t['id']}/console").json()["items"][0]["text"] == line


def test_the_cli_lists_tasks_around_a_bad_row(
    server: ServerProcess, http: httpx.Client, store: Database
) -> None:
    """The issue's ``hydratrack tasks list`` (a 500 for every user on main)."""
    project = unique("cli")
    deep_one = new_task(http, project=project, name=unique("deep"))
    broken = new_task(http, project=project, name=unique("broken"))
    with store.write() as conn:
        tasks_repo.touch(conn, deep_one["id"], runtime=nested(300))
        tasks_repo.touch(conn, broken["id"], script=[1])
    proc = subprocess.run(
        [sys.executable, "-m", "hydratrack", "tasks", "list", "--project", project],
        env=server.env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert deep_one["name"] in proc.stdout and broken["name"] in proc.stdout
