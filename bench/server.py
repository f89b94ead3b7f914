"""A real ``hydratrack server`` process for the benchmarks (own data dir and HOME)."""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from hydratrack.client.config import read_config_file


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclasses.dataclass
class BenchServer:
    url: str
    home: Path
    proc: subprocess.Popen[bytes]
    log_path: Path
    access_key: str = ""
    secret_key: str = ""

    def env(self, **extra: str) -> dict[str, str]:
        """Environment of a client process (SDK app, agent) talking to this server."""
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

    def client(self, timeout: float = 60.0):
        from hydratrack.client import ApiClient

        return ApiClient(self.url, self.access_key, self.secret_key, timeout=timeout)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def start_server(base: Path, db_url: str | None = None, timeout: float = 60.0) -> BenchServer:
    """Start a server on a free port under ``base`` and wait for /health."""
    home, data = base / "home", base / "data"
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
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
        str(data),
    ]
    if db_url:
        args += ["--db", db_url]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYDRATRACK_")}
    env.update(HOME=str(home), PYTHONUNBUFFERED="1")
    log_path = base / f"server-{port}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
    server = BenchServer(f"http://127.0.0.1:{port}", home, proc, log_path)
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(
                f"hydratrack server exited ({proc.returncode}):\n"
                + log_path.read_text(errors="replace")[-3000:]
            )
        try:
            if httpx.get(server.url + "/api/v1/health", timeout=1.0).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"hydratrack server not ready in {timeout} s")
        time.sleep(0.05)
    creds = read_config_file(home / ".hydratrack" / "config.toml")
    server.access_key, server.secret_key = creds["access_key"], creds["secret_key"]
    return server


def rss_mb(pid: int) -> float:
    """Resident set size of a process (Linux /proc), in MB."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")
