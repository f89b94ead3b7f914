"""Start real ``hydratrack server`` processes on 127.0.0.1 for tests and benchmarks.

The database comes from ``HYDRATRACK_TEST_DB``: unset or ``sqlite`` uses SQLite in the
server's data dir; a ``postgresql://user@host:port/`` URL makes a fresh database on that
cluster for each server started (dropped afterwards).
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import httpx

from hydratrack.client import ApiClient
from hydratrack.client.config import read_config_file


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def requested_db_url() -> str | None:
    """The PostgreSQL base URL from ``HYDRATRACK_TEST_DB``, or None for SQLite."""
    value = os.environ.get("HYDRATRACK_TEST_DB", "sqlite").strip()
    return None if value in ("", "sqlite") else value


def _with_database(url: str, name: str) -> str:
    """``postgresql://u@h:p[/anything]`` -> ``postgresql://u@h:p/name``."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))


def create_pg_database(base: str) -> str:
    import psycopg

    name = "ht_test_" + secrets.token_hex(6)
    with psycopg.connect(_with_database(base, "postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return _with_database(base, name)


def drop_pg_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(_with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclasses.dataclass
class ServerProcess:
    url: str
    port: int
    data_dir: Path
    home: Path
    db_url: str | None
    proc: subprocess.Popen[bytes]
    log_path: Path
    creds: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def config_file(self) -> Path:
        return self.home / ".hydratrack" / "config.toml"

    @property
    def access_key(self) -> str:
        return str(self.creds["access_key"])

    @property
    def secret_key(self) -> str:
        return str(self.creds["secret_key"])

    @property
    def admin_password(self) -> str:
        return str(self.creds["ui"]["password"])

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for a client subprocess (SDK app, agent, CLI) talking to this server."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("HYDRATRACK_")}
        env.update(
            HOME=str(self.home),
            HYDRATRACK_API_HOST=self.url,
            HYDRATRACK_ACCESS_KEY=self.access_key,
            HYDRATRACK_SECRET_KEY=self.secret_key,
            PYTHONUNBUFFERED="1",
        )
        env.update(extra)
        return env

    def client(self, timeout: float = 30.0) -> ApiClient:
        return ApiClient(self.url, self.access_key, self.secret_key, timeout=timeout)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def start_server(
    base: Path,
    *,
    db_url: str | None = None,
    extra_args: list[str] | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60.0,
    port: int | None = None,
) -> ServerProcess:
    """Start ``hydratrack server`` and wait until /api/v1/health answers 200."""
    home = base / "home"
    data_dir = base / "data"
    home.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    args = [
        sys.executable,
        "-m",
        "hydratrack",
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
    ]
    if db_url:
        args += ["--db", db_url]
    args += extra_args or []
    proc_env = {k: v for k, v in os.environ.items() if not k.startswith("HYDRATRACK_")}
    proc_env.update(HOME=str(home), PYTHONUNBUFFERED="1")
    proc_env.update(env or {})
    log_path = base / f"server-{port}.log"
    with open(log_path, "ab") as log:  # a restart appends
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=proc_env)
    url = f"http://127.0.0.1:{port}"
    server = ServerProcess(url, port, data_dir, home, db_url, proc, log_path)
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{server.log()}")
        try:
            if httpx.get(url + "/api/v1/health", timeout=1.0).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"server did not become ready in {timeout}s:\n{server.log()}")
        time.sleep(0.05)
    server.creds = read_config_file(server.config_file)
    return server


def restart_server(server: ServerProcess, extra_args: list[str] | None = None) -> ServerProcess:
    """SIGKILL ``server`` (if still running) and start it again: same port, data and
    database. The caller stops the returned process."""
    if server.proc.poll() is None:
        server.proc.kill()
        server.proc.wait(10)
    return start_server(
        server.data_dir.parent, db_url=server.db_url, extra_args=extra_args, port=server.port
    )


def running_server(base: Path, **kwargs: Any) -> Iterator[ServerProcess]:
    """Generator for fixtures: a server on a fresh database, stopped and cleaned after."""
    pg_base = requested_db_url()
    db_url = create_pg_database(pg_base) if pg_base else None
    server = start_server(base, db_url=db_url, **kwargs)
    try:
        yield server
    finally:
        server.stop()
        if db_url:
            drop_pg_database(db_url)
