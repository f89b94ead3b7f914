"""The scripts people run first: ``scripts/demo`` and ``scripts/pg-start``/``pg-stop``.

The demo is run for real (its own HOME, data dir and port), checked through the API, then
stopped with SIGINT as Ctrl-C would; run twice, the second start must still tell how to log in.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from hydratrack.client import ApiClient
from hydratrack.client.config import read_config_file
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
VENV_HT = ROOT / ".venv" / "bin" / "hydratrack"


def _read_until(proc: subprocess.Popen[str], marker: str, timeout: float) -> str:
    """Lines of the process output up to (and with) the line holding marker."""
    assert proc.stdout is not None
    out: list[str] = []
    deadline = time.monotonic() + timeout
    os.set_blocking(proc.stdout.fileno(), False)
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line:
            out.append(line)
            if marker in line:
                return "".join(out)
            continue
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise AssertionError(f"no {marker!r} within {timeout}s (exit {proc.poll()}):\n{''.join(out)}")


@pytest.fixture
def demo_env(tmp_path: Path) -> dict[str, str]:
    if not VENV_HT.exists():
        pytest.fail("the demo test needs the .venv made by scripts/setup: run bash scripts/test")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYDRATRACK_")}
    env.update(HOME=str(tmp_path), HYDRATRACK_DEMO_PORT=str(free_port()), PYTHONUNBUFFERED="1")
    return env


def _default_sigint() -> None:
    # A terminal's Ctrl-C reaches a script whose SIGINT is not ignored; a test runner started in
    # the background (CI) may hand us an ignored SIGINT, which bash could then not trap.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _run_demo(env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc = subprocess.Popen(
        ["bash", str(ROOT / "scripts" / "demo")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=_default_sigint,
    )
    try:
        yield proc, _read_until(proc, "Ctrl-C stops the server", timeout=240)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        if proc.stdout:
            proc.stdout.close()


def _stop_with_ctrl_c(proc: subprocess.Popen[str], url: str) -> None:
    proc.send_signal(signal.SIGINT)
    assert proc.wait(30) == 0
    with pytest.raises(httpx.TransportError):
        httpx.get(url + "/api/v1/health", timeout=2)


@pytest.mark.slow
def test_demo_runs_the_example_and_prints_urls(demo_env: dict[str, str]) -> None:
    url = f"http://127.0.0.1:{demo_env['HYDRATRACK_DEMO_PORT']}"
    for proc, out in _run_demo(demo_env):
        assert f"hydratrack UI:   {url}/" in out
        login = re.search(r"one-click login: (\S+/login\?token=\S+)", out)
        assert login, out
        token = login.group(1).split("token=")[1]
        resp = httpx.post(url + "/api/v1/auth/login", json={"token": token}, timeout=10)
        assert resp.status_code == 200 and resp.json()["user"]["name"] == "admin"
        cfg = read_config_file(Path(demo_env["HOME"]) / ".hydratrack" / "config.toml")
        with ApiClient(url, cfg["access_key"], cfg["secret_key"]) as api:
            tasks = api.list_tasks(project="examples")["items"]
            assert len(tasks) == 3 and {t["status"] for t in tasks} == {"completed"}
            assert {w["name"] for w in api.list_workers()["items"]}  # the demo's agent
            argvs = sorted(" ".join(api.get_task(t["id"])["script"]["argv"]) for t in tasks)
        assert argvs == sorted(
            [
                "db=mysql",
                "db=postgresql dataset.main.number=90",
                "+experiment=fast dataset=cifar ~model.dropout",
            ]
        )
        _stop_with_ctrl_c(proc, url)
    # a second start of the same data dir: a new one-click link, and the password
    for proc, out in _run_demo(demo_env):
        login = re.search(r"one-click login: (\S+/login\?token=\S+)", out)
        assert login and login.group(1).split("token=")[1] != token, out
        resp = httpx.post(
            url + "/api/v1/auth/login",
            json={"token": login.group(1).split("token=")[1]},
            timeout=10,
        )
        assert resp.status_code == 200 and resp.json()["user"]["name"] == "admin"
        password = re.search(r"log in as:\s+admin / (\S+)", out)
        assert password and password.group(1) == cfg["ui"]["password"], out
        resp = httpx.post(
            url + "/api/v1/auth/login",
            json={"username": "admin", "password": password.group(1)},
            timeout=10,
        )
        assert resp.status_code == 200
        _stop_with_ctrl_c(proc, url)


def test_demo_port_taken_is_a_clear_error(demo_env: dict[str, str]) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", int(demo_env["HYDRATRACK_DEMO_PORT"])))
        busy.listen()
        run = subprocess.run(
            ["bash", str(ROOT / "scripts" / "demo")],
            cwd=ROOT,
            env=demo_env,
            capture_output=True,
            text=True,
            timeout=240,
            stdin=subprocess.DEVNULL,
        )
    assert run.returncode == 1, run.stderr
    both = run.stdout + run.stderr  # the server's own lines come through tee on stdout
    assert "cannot listen on" in both and "HYDRATRACK_DEMO_PORT" in run.stderr


@pytest.fixture
def pg_dir() -> Iterator[Path]:
    if not list(Path("/usr/lib/postgresql").glob("*/bin/postgres")):
        pytest.fail("PostgreSQL server binaries not installed (bash scripts/test installs them)")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.fail(
            "runuser is missing: scripts/pg-start needs it to run PostgreSQL as user postgres"
        )
    path = Path(tempfile.mkdtemp(prefix="ht-pg-test-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_pg_start_is_idempotent_and_pg_stop_stops(pg_dir: Path) -> None:
    import psycopg

    port = free_port()
    env = {**os.environ, "HYDRATRACK_PG_PORT": str(port), "HYDRATRACK_PG_DIR": str(pg_dir)}
    script = ROOT / "scripts"
    try:
        first = subprocess.run(
            ["bash", str(script / "pg-start")],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert first.returncode == 0, first.stderr
        url = f"postgresql://postgres@127.0.0.1:{port}/"
        assert first.stdout == url + "\n"
        with psycopg.connect(url + "postgres") as conn:
            assert conn.execute("select 1").fetchone() == (1,)
        t0 = time.monotonic()
        again = subprocess.run(
            ["bash", str(script / "pg-start")],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert again.returncode == 0 and again.stdout == first.stdout
        assert time.monotonic() - t0 < 5  # already running: no second cluster, no wait
    finally:
        stop = subprocess.run(
            ["bash", str(script / "pg-stop"), "--wipe"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert stop.returncode == 0 and "stopped" in stop.stderr, stop.stderr
    assert not pg_dir.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", connect_timeout=3)
