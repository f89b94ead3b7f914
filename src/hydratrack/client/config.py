"""Client settings: environment variables win over ``~/.hydratrack/config.toml``.

The server writes that file on its first start (see docs/api.md, "First start")::

    api_host = "http://127.0.0.1:8080"
    access_key = "..."
    secret_key = "..."
    [ui]
    user = "admin"
    password = "..."
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Mapping, NamedTuple

from hydratrack.names import (
    ACCESS_KEY_ENV,
    API_HOST_ENV,
    CONFIG_FILE_ENV,
    OFFLINE_ENV,
    SECRET_KEY_ENV,
    TASK_ID_ENV,
)

DEFAULT_API_HOST = "http://127.0.0.1:8080"


def config_path(home: Path | None = None) -> Path:
    """Where the client config file lives (``HYDRATRACK_CONFIG_FILE`` overrides)."""
    override = os.environ.get(CONFIG_FILE_ENV)
    if override:
        return Path(override)
    return (home or Path.home()) / ".hydratrack" / "config.toml"


class ClientConfig(NamedTuple):
    """Immutable settings (a NamedTuple: ``Task.init`` reads it, and it is made in a
    fraction of a frozen dataclass's class-creation time)."""

    api_host: str = DEFAULT_API_HOST
    access_key: str | None = None
    secret_key: str | None = None
    offline: bool = False
    task_id: str | None = None
    ui_user: str | None = None
    ui_password: str | None = None
    source: str = "defaults"

    @property
    def has_credentials(self) -> bool:
        return bool(self.access_key and self.secret_key)


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse the config file; a malformed file is an error that names the file.

    The TOML parser is imported only when there is a file (its cost: docs/benchmarks.md)."""
    try:
        fh = path.open("rb")
    except FileNotFoundError:
        return {}
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    with fh:
        try:
            return tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path}: not valid TOML: {exc}") from exc


def load_client_config(env: Mapping[str, str] | None = None) -> ClientConfig:
    env = os.environ if env is None else env
    path = config_path()
    data = read_config_file(path)
    ui = data.get("ui") or {}
    return ClientConfig(
        api_host=(env.get(API_HOST_ENV) or data.get("api_host") or DEFAULT_API_HOST).rstrip("/"),
        access_key=env.get(ACCESS_KEY_ENV) or data.get("access_key"),
        secret_key=env.get(SECRET_KEY_ENV) or data.get("secret_key"),
        offline=_truthy(env.get(OFFLINE_ENV)) or bool(data.get("offline", False)),
        task_id=env.get(TASK_ID_ENV) or None,
        ui_user=ui.get("user"),
        ui_password=ui.get("password"),
        source=str(path) if data else "environment/defaults",
    )


def _toml_str(value: str) -> str:
    # TOML basic strings share JSON's escapes for the characters we can meet here.
    import json

    return json.dumps(value, ensure_ascii=False)


def write_client_config(
    path: Path, *, api_host: str, access_key: str, secret_key: str, user: str, password: str
) -> None:
    """Write the client config file with mode 0600 (created atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    text = (
        f"api_host = {_toml_str(api_host)}\n"
        f"access_key = {_toml_str(access_key)}\n"
        f"secret_key = {_toml_str(secret_key)}\n"
        "[ui]\n"
        f"user = {_toml_str(user)}\n"
        f"password = {_toml_str(password)}\n"
    )
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
