"""The data dir, database and artifacts are private (0700 / 0600) under a 022 umask, and
no token or secret reaches the server's log, even at debug level (real server)."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import servers as support
from tests.support.servers import ServerProcess, running_server


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server started (at debug level) by a process whose umask is 022."""
    old = os.umask(0o022)
    try:
        yield from running_server(tmp_path, extra_args=["--log-level", "debug"])
    finally:
        os.umask(old)


def test_data_dir_database_and_artifacts_are_private(
    loose_umask_server: ServerProcess, tmp_path: Path
) -> None:
    server = loose_umask_server
    with server.client() as api:
        task = api.create_task({"name": "t", "project": "p"})
        (tmp_path / "w.bin").write_bytes(b"weights")
        api.upload_artifact(task["id"], "w", tmp_path / "w.bin")
    data = server.data_dir
    assert _mode(data) == 0o700
    dirs = [p for p in data.rglob("*") if p.is_dir()]
    files = [p for p in data.rglob("*") if p.is_file()]
    assert data / "files" / task["id"] in dirs
    assert any(p.parent == data / "files" / task["id"] for p in files)
    if support.requested_db_url() is None:
        names = {p.name for p in files}
        assert {"hydratrack.db", "hydratrack.db-wal", "hydratrack.db-shm"} <= names, names
    assert {str(p): oct(_mode(p)) for p in dirs if _mode(p) != 0o700} == {}
    assert {str(p): oct(_mode(p)) for p in files if _mode(p) != 0o600} == {}


def test_an_existing_data_dir_is_made_private_at_start(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir(mode=0o755)
    os.chmod(tmp_path / "data", 0o755)
    servers = running_server(tmp_path)
    server = next(servers)
    try:
        assert _mode(server.data_dir) == 0o700
    finally:
        servers.close()


def test_no_token_or_secret_in_the_debug_log(loose_umask_server: ServerProcess) -> None:
    server = loose_umask_server
    base = server.url + "/api/v1"
    with httpx.Client(base_url=base, auth=(server.access_key, server.secret_key)) as http:
        path = http.post("/auth/login-link").json()["path"]
        key = http.post("/auth/keys", json={"label": "k"}).json()
    token = path.split("token=")[1]
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        assert browser.get(path).status_code == 200  # the page, with the token in its URL
        answer = browser.post("/api/v1/auth/login", json={"token": token})
        assert answer.status_code == 200
        cookie = answer.cookies["hydratrack_session"]
        csrf = answer.json()["csrf_token"]
        assert browser.get("/api/v1/auth/me").status_code == 200
        browser.get("/api/v1/auth/me", params={"token": "query-secret-123"})
    httpx.get(base + "/auth/me", auth=(key["access_key"], key["secret_key"]))
    httpx.get(base + "/auth/me", auth=(key["access_key"], "wrong-secret-456"))
    server.stop()
    log = server.log()
    assert "GET /login" in log  # debug logs requests: the test looks at the right output
    for secret in (token, cookie, csrf, key["secret_key"], server.secret_key, "query-secret-123"):
        assert secret not in log, f"{secret[:6]}... is in the server log"
    assert "wrong-secret-456" not in log
    assert re.search(r"GET /login\?token=\*+ ", log), "the token's place is shown redacted"
