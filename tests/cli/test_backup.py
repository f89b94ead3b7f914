"""``hydratrack backup`` while a run writes, ``hydratrack restore`` into a fresh data dir
(or an empty PostgreSQL database), a server started on it has the data; and the server
backs SQLite up before migrating (real servers, real command)."""

from __future__ import annotations

import json
import stat
import threading
import uuid
from pathlib import Path

from sqlalchemy import create_engine

from hydratrack.server.store.migration import current_revision, head_revision, upgrade
from tests.cli.runner import run_cli
from tests.support import servers as support
from tests.support.servers import ServerProcess, running_server, start_server

BATCH = 50  # points per events request: a consistent copy holds whole batches only


def _db_args(server: ServerProcess) -> list[str]:
    return ["--data-dir", str(server.data_dir)] + (["--db", server.db_url] if server.db_url else [])


def _writer(server: ServerProcess, task_id: str, stop: threading.Event, sent: list[int]) -> None:
    with server.client() as api:
        i = 0
        while not stop.is_set():
            points = [
                {"type": "scalar", "metric": "loss", "variant": "train", "iter": i * BATCH + j,
                 "value": 1.0 / (1 + i), "ts": 1.0 + i}
                for j in range(BATCH)
            ]  # fmt: skip
            api.post_events(task_id, uuid.uuid4().hex, points)
            i += 1
            sent.append(i)


def test_backup_while_a_run_writes_then_restore_and_serve(tmp_path: Path) -> None:
    gen = running_server(tmp_path / "a")
    server = next(gen)
    target_db = None
    try:
        with server.client() as api:
            task = api.create_task({"name": "busy", "project": "backup", "status": "in_progress"})
            (tmp_path / "w.bin").write_bytes(b"model weights" * 1000)
            api.upload_artifact(task["id"], "weights", tmp_path / "w.bin")
        stop, sent = threading.Event(), []
        writer = threading.Thread(target=_writer, args=(server, task["id"], stop, sent))
        writer.start()
        try:
            while len(sent) < 5:
                stop.wait(0.05)
            before = len(sent)
            dest = tmp_path / "backup"
            out = run_cli(["backup", str(dest), *_db_args(server)], server.env()).ok().stdout
            after = len(sent)
        finally:
            stop.set()
            writer.join()
        assert "backed up the" in out and "1 files" in out
        assert after > before, "the run kept writing during the backup"
        manifest = json.loads((dest / "backup.json").read_text())
        assert manifest["schema"] == head_revision() and manifest["files"] == 1
        assert stat.S_IMODE(dest.stat().st_mode) == 0o700
        assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in dest.rglob("*") if p.is_file())
        config = server.config_file.read_bytes()
    finally:
        gen.close()

    base = tmp_path / "b"
    (base / "home" / ".hydratrack").mkdir(parents=True)
    (base / "home" / ".hydratrack" / "config.toml").write_bytes(config)  # the same admin key
    pg = support.requested_db_url()
    args = ["--data-dir", str(base / "data")]
    if pg:
        target_db = support.create_pg_database(pg)
        args += ["--db", target_db]
    out = run_cli(["restore", str(dest), *args], server.env()).ok().stdout
    assert "restored the backup" in out
    again = run_cli(["restore", str(dest), *args], server.env())
    again.one_line_error("restore into a")  # never over existing data
    restored = start_server(base, db_url=target_db)
    try:
        with restored.client() as api:
            assert api.get_task(task["id"])["name"] == "busy"
            assert api.download_artifact(task["id"], "weights") == b"model weights" * 1000
            series = api.get_scalars(task["id"], max_points=100_000)["loss"]["train"]
            n = len(series["x"])
            assert n % BATCH == 0 and before * BATCH <= n <= after * BATCH, (n, before, after)
            assert series["x"] == list(range(n))  # whole batches, in order, nothing torn
        assert str(tmp_path / "a") not in restored.log()
    finally:
        restored.stop()
        if target_db:
            support.drop_pg_database(target_db)


def test_restore_needs_a_backup_and_a_matching_database(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    (tmp_path / "bk").mkdir()
    (tmp_path / "bk" / "backup.json").write_text(json.dumps({"database": "postgresql"}))
    bad = run_cli(["restore", str(tmp_path / "bk"), "--data-dir", str(tmp_path / "d")], env)
    bad.one_line_error("postgresql", "--db")
    missing = run_cli(["restore", str(tmp_path / "nope"), "--data-dir", str(tmp_path / "d")], env)
    missing.one_line_error("not a hydratrack backup")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    run_cli(
        ["backup", str(tmp_path / "full"), "--data-dir", str(tmp_path / "d")], env
    ).one_line_error("not empty")


# SQLite only: the server copies an SQLite file before migrating (PostgreSQL: `backup`).
if support.requested_db_url() is None:

    def test_server_backs_up_sqlite_before_migrating(tmp_path: Path) -> None:
        data = tmp_path / "data"
        data.mkdir()
        engine = create_engine(f"sqlite:///{data / 'hydratrack.db'}")
        upgrade(engine, "0001")  # an old database: migrations are pending
        engine.dispose()
        gen = running_server(tmp_path)
        server = next(gen)
        try:
            assert "backed up the database to" in server.log()
            saved = list((data / "backups").glob("hydratrack-0001-*.db"))
            assert len(saved) == 1 and stat.S_IMODE(saved[0].stat().st_mode) == 0o600
            old = create_engine(f"sqlite:///{saved[0]}")
            assert current_revision(old) == "0001"
            old.dispose()
            now = create_engine(f"sqlite:///{data / 'hydratrack.db'}")
            assert current_revision(now) == head_revision()
            now.dispose()
        finally:
            gen.close()
        gen = running_server(tmp_path)  # up to date: no new backup
        next(gen)
        gen.close()
        assert len(list((data / "backups").iterdir())) == 1
