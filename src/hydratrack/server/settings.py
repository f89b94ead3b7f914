"""Server settings, declared once: the fields of :class:`ServerSettings`.

Each field has a name, a type, a default and a help line (:func:`hydratrack.setting.option`);
:data:`SETTINGS` reads them back as rows. The ``hydratrack server`` command builds its flags
from :data:`SETTINGS`, docs/server.md lists them, and a test checks that every setting is
documented.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

from hydratrack.setting import Setting as _Setting
from hydratrack.setting import option, table


class Setting(_Setting):
    """A server setting; its environment variable is ``HYDRATRACK_SERVER_<NAME>``."""

    env_prefix = "HYDRATRACK_SERVER_"


@dataclasses.dataclass(frozen=True)
class ServerSettings:
    host: str = option("127.0.0.1", "Address to bind (127.0.0.1 keeps the server local).")
    port: int = option(8080, "TCP port to listen on.")
    data_dir: str = option(
        "~/.hydratrack/data", "Directory for the SQLite database and stored files."
    )
    db: str = option(
        "", "Database URL: empty for SQLite in the data dir, or postgresql://user@host/db."
    )
    files: str = option(
        "", "Where artifacts go: empty for <data-dir>/files, a path, or a file:// URL."
    )
    lease_seconds: float = option(
        30.0,
        "A worker's task is lost when no heartbeat came for this many seconds: failed, or "
        "re-queued if its queue says so.",
    )
    sweep_seconds: float = option(2.0, "How often expired leases are looked for.")
    worker_gone_seconds: float = option(
        3600.0, "A worker with no heartbeat for this many seconds is removed from the worker list."
    )
    max_body_mib: float = option(16.0, "Largest request body (MiB), except artifact uploads.")
    max_artifact_mib: float = option(64.0, "Largest artifact upload (MiB).")
    log_level: str = option("info", "Server log level (debug, info, warning, error).")
    key_cache_seconds: float = option(
        30.0,
        "How long a verified API key pair is trusted without a database check (0 to "
        "300; 0: every request). A key deleted through another server process stops "
        "working within this time.",
    )
    forwarded_allow_ips: str = option(
        "",
        "Comma-separated addresses of reverse proxies whose X-Forwarded-For/-Proto headers "
        "are believed (e.g. 127.0.0.1 behind a proxy on this machine); empty: none, so no "
        "client can forge its address.",
    )
    login_failures: int = option(
        10,
        "Failed logins or Basic secrets allowed per user within --login-window-seconds "
        "(10 times as many per client address); more answer 429 until the window passes.",
    )
    login_window_seconds: float = option(300.0, "The window that --login-failures counts in.")
    session_idle_hours: float = option(
        12.0, "A UI session not used for this many hours ends (the user signs in again)."
    )
    session_max_days: float = option(
        7.0, "A UI session ends this many days after sign-in, however much it is used."
    )
    secret_pattern: str = option(
        r"(?i)(^|[._\-\s])(pass|passwd|password|secret|token|api_?key|key|credentials?)"
        r"($|[._\-\s])",
        "Regular expression: a config value whose key (last part of its dotted name) "
        "matches is shown as ******** in every read (the store keeps it).",
    )
    project_access: str = option(
        "read",
        "What members (and viewers, at most read) may do in projects they neither own nor "
        "were granted: none, read or edit. Owners and admins manage.",
    )
    queue_access: str = option(
        "members",
        "Who may enqueue to a new queue: members (every member) or granted (its owner, "
        "admins and users granted it). Enqueuing runs code on the queue's agents.",
    )

    def __post_init__(self) -> None:
        if self.project_access not in ("none", "read", "edit"):
            raise ValueError(f"project_access must be none, read or edit: {self.project_access!r}")
        if self.queue_access not in ("members", "granted"):
            raise ValueError(f"queue_access must be members or granted: {self.queue_access!r}")

    @classmethod
    def from_values(cls, **values: Any) -> ServerSettings:
        """Build settings from CLI values; unknown names are an error, types coerced."""
        out: dict[str, Any] = {}
        for name, value in values.items():
            setting = _BY_NAME.get(name)
            if setting is None:
                raise ValueError(f"unknown server setting {name!r}")
            out[name] = setting.type(value) if value is not None else setting.default
        return cls(**out)

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir).expanduser().resolve()

    @property
    def public_url(self) -> str:
        host = self.host
        if host in ("0.0.0.0", "", "::"):
            host = "127.0.0.1"
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def session_idle(self) -> dt.timedelta:
        return dt.timedelta(hours=self.session_idle_hours)

    @property
    def session_max_age(self) -> dt.timedelta:
        return dt.timedelta(days=self.session_max_days)

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_mib * 1024 * 1024)

    @property
    def max_artifact_bytes(self) -> int:
        return int(self.max_artifact_mib * 1024 * 1024)


SETTINGS: tuple[Setting, ...] = table(ServerSettings, Setting)
_BY_NAME = {s.name: s for s in SETTINGS}
