"""Client settings: env wins over the config file; the file is written 0600."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from hydratrack.client.config import load_client_config, read_config_file, write_client_config


@pytest.fixture
def cfg_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config.toml"
    monkeypatch.setenv("HYDRATRACK_CONFIG_FILE", str(path))
    for var in (
        "HYDRATRACK_API_HOST",
        "HYDRATRACK_ACCESS_KEY",
        "HYDRATRACK_SECRET_KEY",
        "HYDRATRACK_OFFLINE",
        "HYDRATRACK_TASK_ID",
    ):
        monkeypatch.delenv(var, raising=False)
    return path


def test_file_round_trip_and_mode(cfg_file: Path) -> None:
    write_client_config(
        cfg_file,
        api_host="http://127.0.0.1:9",
        access_key="AK",
        secret_key='s"e\\c',
        user="admin",
        password="pw",
    )
    assert stat.S_IMODE(cfg_file.stat().st_mode) == 0o600
    cfg = load_client_config()
    assert (cfg.api_host, cfg.access_key, cfg.secret_key) == ("http://127.0.0.1:9", "AK", 's"e\\c')
    assert (cfg.ui_user, cfg.ui_password) == ("admin", "pw")
    assert read_config_file(cfg_file)["ui"]["user"] == "admin"


def test_env_wins(cfg_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_client_config(
        cfg_file, api_host="http://a", access_key="AK", secret_key="SK", user="admin", password="pw"
    )
    monkeypatch.setenv("HYDRATRACK_API_HOST", "http://b/")
    monkeypatch.setenv("HYDRATRACK_ACCESS_KEY", "AK2")
    monkeypatch.setenv("HYDRATRACK_OFFLINE", "1")
    monkeypatch.setenv("HYDRATRACK_TASK_ID", "abc")
    cfg = load_client_config()
    assert cfg.api_host == "http://b"
    assert cfg.access_key == "AK2" and cfg.secret_key == "SK"
    assert cfg.offline and cfg.task_id == "abc"


def test_missing_file_gives_defaults(cfg_file: Path) -> None:
    cfg = load_client_config()
    assert cfg.api_host == "http://127.0.0.1:8080" and not cfg.has_credentials


def test_malformed_file_names_the_file(cfg_file: Path) -> None:
    cfg_file.write_text("api_host = \n")
    with pytest.raises(ValueError, match="config.toml"):
        load_client_config()


def test_no_file_no_toml_parser(tmp_path: Path) -> None:
    """Without a config file (settings from the environment) Task.init skips tomllib."""
    import os
    import subprocess
    import sys

    code = (
        "import sys\nfrom hydratrack.client.config import load_client_config\n"
        "cfg = load_client_config()\nprint(cfg.access_key, 'tomllib' in sys.modules)"
    )
    env = {
        **os.environ,
        "HYDRATRACK_CONFIG_FILE": str(tmp_path / "none.toml"),
        "HYDRATRACK_ACCESS_KEY": "AK",
    }
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert out.split() == ["AK", "False"]
