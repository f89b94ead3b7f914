"""First start (admin, key pair, queue, config file, login URL) and second start (no-op)."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import httpx

from hydratrack.client.config import read_config_file
from tests.api.conftest import assert_error
from tests.support.servers import ServerProcess, running_server, start_server


def _login_token(log: str) -> str:
    found = re.findall(r"(http://127\.0\.0\.1:\d+)/login\?token=(\S+)", log)
    assert len(found) == 1, log
    return str(found[0][1])


def test_first_start_writes_client_config(fresh_server: ServerProcess) -> None:
    path = fresh_server.config_file
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = read_config_file(path)
    assert data["api_host"] == fresh_server.url  # the URL the server really listens on
    assert set(data) == {"api_host", "access_key", "secret_key", "ui"}
    assert data["ui"]["user"] == "admin" and len(data["ui"]["password"]) >= 12
    with httpx.Client(
        base_url=fresh_server.url + "/api/v1", auth=(data["access_key"], data["secret_key"])
    ) as c:
        assert c.get("/auth/me").json()["user"]["name"] == "admin"
        queues = c.get("/queues").json()
        assert [q["name"] for q in queues["items"]] == ["default"]
        assert c.get("/tasks").json() == {"items": [], "total": 0}  # migrated from empty
    with httpx.Client(base_url=fresh_server.url + "/api/v1") as c:
        ok = c.post("/auth/login", json={"username": "admin", "password": data["ui"]["password"]})
        assert ok.status_code == 200


def test_login_url_is_single_use(fresh_server: ServerProcess) -> None:
    token = _login_token(fresh_server.log())
    assert f"{fresh_server.url}/login?token={token}" in fresh_server.log()
    with httpx.Client(base_url=fresh_server.url + "/api/v1") as c:
        resp = c.post("/auth/login", json={"token": token})
        assert resp.status_code == 200, resp.text
        assert resp.json()["user"]["name"] == "admin"
        assert c.get("/auth/me").status_code == 200
    with httpx.Client(base_url=fresh_server.url + "/api/v1") as c:
        assert_error(c.post("/auth/login", json={"token": token}), 401, "unauthorized", "used")


def test_second_start_changes_nothing(fresh_server: ServerProcess) -> None:
    before = fresh_server.config_file.read_bytes()
    with fresh_server.client() as api:
        api.create_task({"name": "kept", "project": "p"})
    fresh_server.stop()
    base = fresh_server.log_path.parent
    again = start_server(base, db_url=fresh_server.db_url)
    try:
        assert again.config_file.read_bytes() == before
        log = again.log()
        assert "first start" not in log and "login?token=" not in log
        assert f"UI at {again.url}/" in log
        with httpx.Client(
            base_url=again.url + "/api/v1", auth=(again.access_key, again.secret_key)
        ) as c:
            users = c.get("/users").json()["items"]
            assert [u["name"] for u in users] == ["admin"]
            assert [t["name"] for t in c.get("/tasks").json()["items"]] == ["kept"]
    finally:
        again.stop()


def test_existing_config_file_is_kept(tmp_path: Path) -> None:
    cfg = tmp_path / "home" / ".hydratrack" / "config.toml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text('api_host = "http://elsewhere:1"\n')
    servers = running_server(tmp_path)
    srv = next(servers)
    try:
        log = srv.log()
        assert f"kept existing {cfg}" in log and "login?token=" in log
        assert cfg.read_text() == 'api_host = "http://elsewhere:1"\n'
    finally:
        servers.close()
