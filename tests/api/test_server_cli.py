"""``hydratrack server``: settings documented, bad settings give one clear line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hydratrack.server.settings import SETTINGS, ServerSettings
from tests.support.servers import free_port

DOC = Path(__file__).parents[2] / "docs" / "server.md"


def test_every_setting_is_documented_and_a_flag() -> None:
    doc = DOC.read_text()
    help_text = subprocess.run(
        [sys.executable, "-m", "hydratrack", "server", "--help"],
        capture_output=True,
        text=True,
        check=True,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    ).stdout
    for s in SETTINGS:
        assert f"`{s.flag}`" in doc, f"{s.flag} missing from docs/server.md"
        assert s.flag in help_text
        assert getattr(ServerSettings(), s.name) == s.default


def test_unknown_setting_name() -> None:
    with pytest.raises(ValueError, match="colour"):
        ServerSettings.from_values(colour="red")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--files", "s3://bucket/x"], "s3:// storage is not supported yet"),
        (["--db", "mysql://u@h/db"], "unsupported database URL"),
        (["--db", "postgresql://u:secretpw@127.0.0.1:1/x"], "cannot open database"),
        (["--lease-seconds", "0"], "must be positive"),
        (["--key-cache-seconds", "-1"], "--key-cache-seconds must be between 0 and 300"),
        (["--key-cache-seconds", "301"], "--key-cache-seconds must be between 0 and 300"),
    ],
)
def test_bad_settings_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "hydratrack",
            "server",
            "--data-dir",
            str(tmp_path / "data"),
            "--port",
            str(free_port()),
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert out.returncode == 1
    assert out.stderr.startswith("hydratrack: error: ") and message in out.stderr
    assert "Traceback" not in out.stderr and "secretpw" not in out.stderr
    assert not (tmp_path / ".hydratrack" / "config.toml").exists()


def test_port_in_use_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "hydratrack",
                "server",
                "--data-dir",
                str(tmp_path / "data"),
                "--port",
                str(port),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
    assert out.returncode == 1
    assert out.stderr.startswith("hydratrack: error: ") and f"127.0.0.1:{port}" in out.stderr
    assert "in use" in out.stderr
    assert not (tmp_path / ".hydratrack" / "config.toml").exists()


def test_postgresql_without_its_driver_names_the_extra(tmp_path: Path) -> None:
    """psycopg is the `postgresql` extra: a server without it says which extra to install."""
    code = (
        "import sys; sys.modules['psycopg'] = None; "  # as if the driver were not installed
        "from hydratrack.cli import main; sys.argv[0] = 'hydratrack'; main()"
    )
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "server",
            "--data-dir",
            str(tmp_path / "data"),
            "--port",
            str(free_port()),
            "--db",
            "postgresql://u:secretpw@127.0.0.1:1/x",
        ],
        capture_output=True,
        text=True,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert out.returncode == 1, out.stderr
    assert out.stderr.startswith("hydratrack: error: ")
    assert "pip install 'hydratrack[postgresql]'" in out.stderr
    assert "Traceback" not in out.stderr and "secretpw" not in out.stderr
    assert not (tmp_path / ".hydratrack" / "config.toml").exists()
