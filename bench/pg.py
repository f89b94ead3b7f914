"""A throw-away PostgreSQL cluster for the scale suite (when no ``--pg`` URL is given).

Uses the Debian server binaries (``/usr/lib/postgresql/<v>/bin``); as root the cluster
runs as the ``postgres`` user. Trust auth, 127.0.0.1 only, a free port.
"""

from __future__ import annotations

import dataclasses
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench.server import free_port


@dataclasses.dataclass
class Cluster:
    data: Path
    port: int
    bindir: Path
    as_user: list[str]

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/"

    def stop(self) -> None:
        subprocess.run(
            [
                *self.as_user,
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.data),
                "-m",
                "fast",
                "stop",
            ],
            capture_output=True,
        )
        shutil.rmtree(self.data.parent, ignore_errors=True)


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError(
            "no PostgreSQL server binaries (apt-get install postgresql), or pass --pg URL"
        )
    return Path(found[-1]).parent


def start_cluster() -> Cluster:
    bindir = _bindir()
    root = Path(tempfile.mkdtemp(prefix="hydratrack-bench-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data = root / "data"
    run = lambda *a: subprocess.run([*as_user, *a], capture_output=True, text=True)  # noqa: E731
    out = run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
    if out.returncode:
        raise RuntimeError(f"initdb failed: {out.stderr[-2000:]}")
    port = free_port()
    opts = (
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c shared_buffers=256MB -c synchronous_commit=off"
    )
    out = run(
        str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(root / "log"), "-w", "start"
    )
    if out.returncode:
        raise RuntimeError(f"pg_ctl start failed: {out.stderr[-2000:]}")
    return Cluster(data, port, bindir, as_user)


def create_database(base_url: str, name: str) -> str:
    """Create database ``name`` (dropped first if present); returns its URL."""
    from urllib.parse import urlsplit

    import psycopg

    parts = urlsplit(base_url)
    base = f"{parts.scheme}://{parts.netloc}"
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


def vacuum_analyze(url: str) -> None:
    """``VACUUM ANALYZE`` the database at ``url``, as autovacuum soon would after a bulk load
    (it sets the visibility map, which index-only scans rely on)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def drop_database(base_url: str, name: str) -> None:
    from urllib.parse import urlsplit

    import psycopg

    parts = urlsplit(base_url)
    with psycopg.connect(f"{parts.scheme}://{parts.netloc}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
