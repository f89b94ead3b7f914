"""Every endpoint answers bad requests with the one error shape; limits give 413."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.api.conftest import assert_error
from tests.support.servers import running_server

MISSING = "0" * 32
# (method, path) of every endpoint taking a JSON body, with an id that does not exist
JSON_ENDPOINTS = [
    ("POST", "/auth/login"),
    ("POST", "/auth/keys"),
    ("POST", "/users"),
    ("POST", "/projects"),
    ("PATCH", f"/projects/{MISSING}"),
    ("POST", "/tasks"),
    ("PATCH", f"/tasks/{MISSING}"),
    ("PATCH", f"/tasks/{MISSING}/hyperparams"),
    ("PUT", f"/tasks/{MISSING}/hyperparams/Hydra"),
    ("PUT", f"/tasks/{MISSING}/configuration/OmegaConf"),
    ("POST", f"/tasks/{MISSING}/events"),
    ("POST", f"/tasks/{MISSING}/clone"),
    ("POST", f"/tasks/{MISSING}/enqueue"),
    ("POST", f"/tasks/{MISSING}/dequeue"),
    ("POST", f"/tasks/{MISSING}/abort"),
    ("POST", f"/tasks/{MISSING}/reset"),
    ("POST", f"/tasks/{MISSING}/publish"),
    ("POST", f"/tasks/{MISSING}/archive"),
    ("POST", f"/tasks/{MISSING}/status"),
    ("POST", "/queues"),
    ("POST", "/workers"),
    ("POST", f"/workers/{MISSING}/heartbeat"),
    ("POST", f"/workers/{MISSING}/claim"),
]
GET_MISSING = [
    f"/projects/{MISSING}",
    f"/tasks/{MISSING}",
    f"/tasks/{MISSING}/hyperparams",
    f"/tasks/{MISSING}/configuration",
    f"/tasks/{MISSING}/scalars",
    f"/tasks/{MISSING}/scalars/last",
    f"/tasks/{MISSING}/console",
    f"/tasks/{MISSING}/texts",
    f"/tasks/{MISSING}/artifacts",
    f"/tasks/{MISSING}/artifacts/x/file",
    f"/queues/{MISSING}",
]


@pytest.mark.parametrize(("method", "path"), JSON_ENDPOINTS)
def test_malformed_json_is_400(http: httpx.Client, method: str, path: str) -> None:
    resp = http.request(
        method, path, content=b'{"name": ', headers={"content-type": "application/json"}
    )
    assert_error(resp, 400, "bad_request", "JSON")


@pytest.mark.parametrize(("method", "path"), JSON_ENDPOINTS)
def test_wrong_types_are_422_naming_fields(http: httpx.Client, method: str, path: str) -> None:
    body = {"x": [1]} if path.endswith("/hyperparams/Hydra") else {"unexpected_field": 1}
    resp = http.request(method, path, json=body)
    err = assert_error(resp, 422, "validation_error")
    assert err["details"] and all(set(d) == {"field", "message"} for d in err["details"])
    assert any(d["field"].startswith("body") for d in err["details"])


@pytest.mark.parametrize("path", GET_MISSING)
def test_unknown_ids_are_404(http: httpx.Client, path: str) -> None:
    assert_error(http.get(path), 404, "not_found", MISSING)


@pytest.mark.parametrize(
    "path",
    [
        f"/tasks/{MISSING}",
        f"/tasks/{MISSING}/configuration/OmegaConf",
        f"/queues/{MISSING}",
        f"/workers/{MISSING}",
        f"/auth/keys/{MISSING}",
    ],
)
def test_delete_unknown_is_404(http: httpx.Client, path: str) -> None:
    assert_error(http.delete(path), 404, "not_found", MISSING)


def test_unknown_endpoint_and_method(http: httpx.Client) -> None:
    assert_error(http.get("/nothing-here"), 404, "not_found", "/api/v1/nothing-here")
    assert_error(http.put("/tasks"), 405, "method_not_allowed", "PUT")


def test_openapi_document(http: httpx.Client) -> None:
    doc = http.get("/openapi.json").json()
    assert doc["info"]["title"] == "hydratrack"
    for path in (
        "/api/v1/tasks",
        "/api/v1/tasks/{task_id}/events",
        "/api/v1/workers/{worker_id}/claim",
        "/api/v1/auth/login",
    ):
        assert path in doc["paths"]


def test_body_limits_413(tmp_path: Path) -> None:
    servers = running_server(
        tmp_path, extra_args=["--max-body-mib", "0.01", "--max-artifact-mib", "0.02"]
    )
    srv = next(servers)
    try:
        with httpx.Client(base_url=srv.url + "/api/v1", auth=(srv.access_key, srv.secret_key)) as c:
            t = c.post("/tasks", json={"name": "t", "project": "p"}).json()
            big = {"batch_id": "b", "events": [{"type": "console", "text": "x" * 20_000}]}
            assert_error(c.post(f"/tasks/{t['id']}/events", json=big), 413, "payload_too_large")

            def chunks() -> object:  # no Content-Length: cut off while streaming
                for _ in range(20):
                    yield b" " * 1024

            assert_error(
                c.post("/tasks", content=chunks(), headers={"content-type": "application/json"}),
                413,
                "payload_too_large",
            )
            url = f"/tasks/{t['id']}/artifacts"
            ok = c.post(url, data={"name": "a"}, files={"file": ("a", b"1" * 15_000)})
            assert ok.status_code == 201, ok.text  # artifacts have their own, larger limit
            assert_error(
                c.post(url, data={"name": "b"}, files={"file": ("b", b"1" * 30_000)}),
                413,
                "payload_too_large",
            )
            assert [a["name"] for a in c.get(url).json()["items"]] == ["a"]
            assert c.get("/health").status_code == 200
    finally:
        servers.close()


def test_unexpected_error_is_500_json(tmp_path: Path) -> None:
    """In-process app (the only way to make a route fail on purpose): a bug answers 500 JSON."""
    import asyncio

    from hydratrack.server.app import create_app
    from hydratrack.server.runner import open_context
    from hydratrack.server.settings import ServerSettings

    ctx = open_context(ServerSettings(data_dir=str(tmp_path / "data")))
    app = create_app(ctx)

    @app.get("/api/v1/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.get("/api/v1/boom")

    try:
        err = assert_error(asyncio.run(call()), 500, "internal_error", "RuntimeError")
        assert "a bug" not in err["message"]  # no internals leak to clients
    finally:
        ctx.db.dispose()


def test_files_setting_takes_a_file_url(tmp_path: Path) -> None:
    root = tmp_path / "artifact-store"
    servers = running_server(tmp_path, extra_args=["--files", root.as_uri()])
    srv = next(servers)
    try:
        with srv.client() as api:
            t = api.create_task({"name": "t", "project": "p"})
            (tmp_path / "f").write_bytes(b"abc")
            art = api.upload_artifact(t["id"], "f", tmp_path / "f")
        stored = [p for p in root.rglob("*") if p.is_file()]
        assert [p.read_bytes() for p in stored] == [b"abc"]
        assert "uri" not in art and str(root) not in repr(art)
        assert art["url"] == f"/api/v1/tasks/{t['id']}/artifacts/f/file"
    finally:
        servers.close()
