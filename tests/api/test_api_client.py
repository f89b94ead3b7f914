"""ApiClient itself, on both wire backends (httpx and the stdlib ``http.client`` one the
SDK's sender uses), against a real server process: the same calls give the same answers,
the same errors, the same fault behaviour."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from hydratrack.client.api import ApiClient, ApiError, ServerUnreachable
from hydratrack.client.wire import BACKENDS, Backend
from tests.api.conftest import unique
from tests.support.servers import ServerProcess, free_port, running_server

pytestmark = pytest.mark.parametrize("backend", BACKENDS)


def client_for(server: ServerProcess, backend: Backend, **kw: object) -> ApiClient:
    return ApiClient(server.url, server.access_key, server.secret_key, backend=backend, **kw)  # type: ignore[arg-type]


@pytest.fixture
def c(server: ServerProcess, backend: Backend) -> Iterator[ApiClient]:
    with client_for(server, backend) as client:
        assert client.backend == backend
        yield client


def test_task_round_trip_with_names_that_need_quoting(c: ApiClient) -> None:
    assert c.health()["status"] == "ok"
    assert c.me()["user"]["name"] == "admin"
    project = unique("proj ü")
    t = c.create_task({"name": 'naïve run "1"', "project": project, "tags": ["a", "b"]})
    assert c.get_task(t["id"])["name"] == 'naïve run "1"'
    assert c.update_task(t["id"], comment="line 1\nline 2 ✓")["comment"] == "line 1\nline 2 ✓"
    section = "My Section ü"
    c.put_hyperparam_section(t["id"], section, {"lr": {"value": "0.1"}, "a b": {"value": "x"}})
    c.patch_hyperparams(t["id"], {section: {"lr": {"value": "0.2"}, "a b": None}})
    params = c.get_hyperparams(t["id"])[section]
    assert params["lr"]["value"] == "0.2" and "a b" not in params
    c.put_configuration(t["id"], "conf ü", "a: 1\nb: é\n")
    assert c.get_configuration(t["id"])["conf ü"]["value"] == "a: 1\nb: é\n"
    listed = c.list_tasks(project=project, tag=["a", "b"], limit=5)
    assert [i["id"] for i in listed["items"]] == [t["id"]]
    assert c.list_tasks(project=project, tag=["nope"])["items"] == []
    c.delete_task(t["id"])  # 204: an empty answer
    with pytest.raises(ApiError) as err:
        c.get_task(t["id"])
    assert (err.value.status, err.value.code) == (404, "not_found")
    assert t["id"] in err.value.message


def test_events_scalars_console(c: ApiClient) -> None:
    t = c.create_task({"name": "ev", "project": unique("p"), "status": "in_progress"})
    events = [
        {
            "type": "scalar",
            "metric": "loss",
            "variant": "train",
            "iter": i,
            "value": 1.0 / (i + 1),
            "ts": 1.0,
        }
        for i in range(5)
    ]
    events.append({"type": "console", "stream": "stdout", "text": "héllo\n", "ts": 2.0})
    assert c.post_events(t["id"], "b" * 32, events)
    c.post_events(t["id"], "b" * 32, events)  # the same batch again: stored once
    scalars = c.get_scalars(t["id"], metric="loss")
    assert scalars["loss"]["train"]["x"] == [0, 1, 2, 3, 4]
    console = c.get_console(t["id"], after=-1, limit=10)["items"]
    assert [i["text"] for i in console] == ["héllo\n"]
    c.set_status(t["id"], "completed")
    assert c.get_task(t["id"])["status"] == "completed"


def test_artifact_upload_streams_and_downloads(c: ApiClient, tmp_path: Path) -> None:
    t = c.create_task({"name": "art", "project": unique("p")})
    data = bytes(range(256)) * 4000 + b"end"  # ~1 MB, several chunks
    path = tmp_path / 'we"ird\nnäme.bin'
    path.write_bytes(data)
    made = c.upload_artifact(t["id"], "model", path, {"epoch": 3, "note": "ü"})
    assert made["size"] == len(data)
    assert c.download_artifact(t["id"], "model") == data
    (item,) = c.list_artifacts(t["id"])["items"]
    assert item["metadata"] == {"epoch": 3, "note": "ü"}
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    c.upload_artifact(t["id"], "empty", empty)
    assert c.download_artifact(t["id"], "empty") == b""


def test_actions_queues_and_claim_timeout(c: ApiClient) -> None:
    queue = unique("q")
    c.create_queue(queue)
    t = c.create_task({"name": "act", "project": unique("p")})
    clone = c.clone_task(t["id"], "act 2")
    assert clone["parent"] == t["id"] and clone["status"] == "draft"
    assert c.enqueue_task(clone["id"], queue)["status"] == "queued"
    assert c.dequeue_task(clone["id"])["status"] == "draft"
    worker = c.register_worker(unique("w"), [queue])
    started = time.monotonic()
    assert c.claim(worker["id"], timeout=0.5) is None  # a long-poll answered 204
    assert time.monotonic() - started >= 0.4
    c.enqueue_task(clone["id"], queue)
    claimed = c.claim(worker["id"], timeout=5)
    assert claimed is not None and claimed["id"] == clone["id"]
    c.heartbeat(worker["id"], clone["id"])
    c.unregister_worker(worker["id"])


def test_error_answers_have_the_one_shape(c: ApiClient) -> None:
    with pytest.raises(ApiError) as err:  # 422 with details
        c.create_task({"name": 5, "project": []})
    assert err.value.status == 422 and err.value.code == "validation_error"
    assert isinstance(err.value.details, list) and err.value.details
    assert all({"field", "message"} <= set(d) for d in err.value.details)
    with pytest.raises(ApiError) as err:  # 409
        c.create_project(name := unique("dup"))
        c.create_project(name)
    assert (err.value.status, err.value.code) == (409, "conflict")
    # the client still works after error answers (the connection is reused or renewed)
    assert c.health()["status"] == "ok"


def test_wrong_credentials(server: ServerProcess, backend: Backend) -> None:
    with ApiClient(server.url, server.access_key, "wrong", backend=backend) as bad:
        with pytest.raises(ApiError) as err:
            bad.me()
        assert (err.value.status, err.value.code) == (401, "unauthorized")
        assert not isinstance(err.value, ServerUnreachable)
        assert bad.health()["status"] == "ok"  # no credentials needed there
    with ApiClient(server.url, "", "", backend=backend) as anon:
        with pytest.raises(ApiError) as err:
            anon.list_tasks()
        assert err.value.status == 401


def test_server_down_is_unreachable(backend: Backend) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with ApiClient(url, "k", "s", backend=backend, timeout=2) as down:
        with pytest.raises(ServerUnreachable) as err:
            down.health()
    assert err.value.status == 0 and err.value.code == "unreachable"
    assert url in err.value.message


def test_unknown_backend_is_refused(backend: Backend) -> None:
    with pytest.raises(ValueError, match="unknown wire backend 'curl'"):
        ApiClient("http://127.0.0.1:1", "k", "s", backend="curl")  # type: ignore[arg-type]


def test_server_stopping_between_requests(tmp_path: Path, backend: Backend) -> None:
    gen = running_server(tmp_path)
    srv = next(gen)
    try:
        with client_for(srv, backend, timeout=5) as c:
            assert c.health()["status"] == "ok"
            srv.stop()
            with pytest.raises(ServerUnreachable):
                c.me()
    finally:
        gen.close()


def test_body_over_the_limit_is_413(tmp_path: Path, backend: Backend) -> None:
    gen = running_server(tmp_path, extra_args=["--max-body-mib", "0.05"])
    srv = next(gen)
    try:
        with client_for(srv, backend) as c:
            t = c.create_task({"name": "big", "project": unique("p")})
            with pytest.raises(ApiError) as err:
                c.put_configuration(t["id"], "big", "x: " + "y" * 200_000)
            assert (err.value.status, err.value.code) == (413, "payload_too_large")
            assert "larger than" in err.value.message
            assert c.get_task(t["id"])["configuration"] == {}  # nothing half-stored
            assert c.health()["status"] == "ok"  # and the client carries on
    finally:
        gen.close()


def test_a_kept_alive_connection_closed_by_the_server_is_renewed(
    server: ServerProcess, backend: Backend
) -> None:
    """uvicorn closes idle connections after 5 s; the next request must still work."""
    with client_for(server, backend) as c:
        t = c.create_task({"name": "idle", "project": unique("p")})
        time.sleep(5.6)
        assert c.update_task(t["id"], comment="after idle")["comment"] == "after idle"
        if backend == "stdlib":
            assert c.wire.connections == 2  # type: ignore[attr-defined]
        time.sleep(0.2)
        assert c.get_task(t["id"])["comment"] == "after idle"


def test_importing_the_client_does_not_import_httpx(backend: Backend) -> None:
    code = (
        "import sys, json\nfrom hydratrack.client.api import ApiClient\n"
        f"ApiClient('http://127.0.0.1:1', 'k', 's', backend={backend!r})\n"
        "print(json.dumps('httpx' in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert json.loads(out) is (backend == "httpx")
