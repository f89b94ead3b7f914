"""``/health`` tells the truth: degraded (with the reason) when the data disk is full or
the database cannot take a write, while reads go on being answered."""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from tests.api.conftest import assert_error
from tests.support.servers import ServerProcess, requested_db_url, running_server


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 24 MiB file system of its own (tmpfs with ``size=``): needs root and ``mount``."""
    if os.geteuid() != 0:
        pytest.skip("a size-limited file system (tmpfs size=) can only be mounted as root")
    mnt = tmp_path / "small"
    mnt.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mnt)],
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(path: Path) -> None:
    """Write ``path`` until the disk holding it is full (big writes, then small ones)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        for size in (1024 * 1024, 4096, 1):
            try:
                while os.write(fd, b"\0" * size):
                    pass
            except OSError:
                pass
    finally:
        os.close(fd)


def health(server: ServerProcess) -> dict[str, object]:
    resp = httpx.get(server.url + "/api/v1/health", timeout=30)
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def test_health_reports_a_full_data_disk_and_reads_go_on(small_disk: Path) -> None:
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(
            contextlib.contextmanager(running_server)(
                small_disk, extra_args=["--max-body-mib", "1"]
            )
        )
        api = stack.enter_context(
            httpx.Client(
                base_url=server.url + "/api/v1", auth=(server.access_key, server.secret_key)
            )
        )
        made = api.post("/tasks", json={"name": "before", "project": "p"})
        assert made.status_code == 201, made.text
        assert health(server)["status"] == "ok"
        filler = small_disk / "filler"
        fill(filler)
        got = health(server)
        assert got["status"] == "degraded", got
        assert any("data disk full" in str(r) for r in got["reasons"]), got  # type: ignore[attr-defined]
        listed = api.get("/tasks")
        assert listed.status_code == 200 and listed.json()["total"] == 1
        assert api.get(f"/tasks/{made.json()['id']}").status_code == 200
        task_id = made.json()["id"]
        upload = api.post(
            f"/tasks/{task_id}/artifacts",
            data={"name": "weights"},
            files={"file": ("weights", b"w" * 200_000)},
        )  # a write the full disk refuses: 503, the error shape, nothing stored
        assert_error(upload, 503, "unavailable", "storage not writable")
        assert api.get(f"/tasks/{task_id}/artifacts").json()["items"] == []
        big = api.post("/tasks", json={"name": "big", "project": "p", "comment": "c" * 500_000})
        if big.status_code != 201:  # (SQLite: the database is on the full disk too)
            assert_error(big, 503, "unavailable", "storage not writable")
        filler.unlink()
        assert health(server) == {"status": "ok", "version": got["version"]}


# PostgreSQL only: the same write probe serves SQLite, but as root (CI) a read-only SQLite
# file is written anyway, and a read-only remount is refused while the server holds it open.
if requested_db_url() is not None:

    def test_health_reports_a_database_that_takes_no_writes(tmp_path: Path) -> None:
        with contextlib.ExitStack() as stack:
            server = stack.enter_context(contextlib.contextmanager(running_server)(tmp_path))
            assert server.db_url is not None
            import psycopg

            name = server.db_url.rsplit("/", 1)[1]
            admin = server.db_url.rsplit("/", 1)[0] + "/postgres"

            def set_read_only(on: bool) -> None:
                with psycopg.connect(admin, autocommit=True) as conn:
                    value = "on" if on else "off"
                    conn.execute(
                        f'ALTER DATABASE "{name}" SET default_transaction_read_only = {value}'
                    )
                    conn.execute(  # the server's pool reconnects with the new default
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                        (name,),
                    )

            api = stack.enter_context(
                httpx.Client(
                    base_url=server.url + "/api/v1", auth=(server.access_key, server.secret_key)
                )
            )
            assert api.post("/tasks", json={"name": "t", "project": "p"}).status_code == 201
            assert health(server)["status"] == "ok"
            set_read_only(True)
            got = health(server)
            assert got["status"] == "degraded", got
            assert any("database not writable" in str(r) for r in got["reasons"]), got  # type: ignore[attr-defined]
            listed = api.get("/tasks")
            assert listed.status_code == 200 and listed.json()["total"] == 1
            refused = api.post("/tasks", json={"name": "t2", "project": "p"})
            assert_error(refused, 503, "unavailable", "read-only")
            set_read_only(False)
            assert health(server)["status"] == "ok"
