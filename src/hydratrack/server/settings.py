"""Server settings, declared once as data.

Each :class:`Setting` has a name, a default, a type and a help line. The
``hydratrack server`` command builds its flags from :data:`SETTINGS`, docs/server.md
lists them, and a test checks that every setting is documented.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from hydratrack.setting import Setting as _Setting


class Setting(_Setting):
    """A server setting; its environment variable is ``HYDRATRACK_SERVER_<NAME>``."""

    env_prefix = "HYDRATRACK_SERVER_"


SETTINGS: tuple[Setting, ...] = (
    Setting("host", "127.0.0.1", str, "Address to bind (127.0.0.1 keeps the server local)."),
    Setting("port", 8080, int, "TCP port to listen on."),
    Setting(
        "data_dir", "~/.hydratrack/data", str, "Directory for the SQLite database and stored files."
    ),
    Setting(
        "db",
        "",
        str,
        "Database URL: empty for SQLite in the data dir, or postgresql://user@host/db.",
    ),
    Setting(
        "files",
        "",
        str,
        "Where artifacts go: empty for <data-dir>/files, a path, or a file:// URL.",
    ),
    Setting(
        "lease_seconds",
        30.0,
        float,
        "A worker's task is failed when no heartbeat came for this many seconds.",
    ),
    Setting("sweep_seconds", 2.0, float, "How often expired leases are looked for."),
    Setting("max_body_mib", 16.0, float, "Largest request body (MiB), except artifact uploads."),
    Setting("max_artifact_mib", 64.0, float, "Largest artifact upload (MiB)."),
    Setting("log_level", "info", str, "Server log level (debug, info, warning, error)."),
    Setting(
        "key_cache_seconds",
        30.0,
        float,
        "How long a verified API key pair is trusted without a database check (0 to "
        "300; 0: every request). A key deleted through another server process stops "
        "working within this time.",
    ),
    Setting(
        "project_access",
        "read",
        str,
        "What members (and viewers, at most read) may do in projects they neither own nor "
        "were granted: none, read or edit. Owners and admins manage.",
    ),
    Setting(
        "queue_access",
        "members",
        str,
        "Who may enqueue to a new queue: members (every member) or granted (its owner, "
        "admins and users granted it). Enqueuing runs code on the queue's agents.",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}


@dataclasses.dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: str = "~/.hydratrack/data"
    db: str = ""
    files: str = ""
    lease_seconds: float = 30.0
    sweep_seconds: float = 2.0
    max_body_mib: float = 16.0
    max_artifact_mib: float = 64.0
    log_level: str = "info"
    key_cache_seconds: float = 30.0
    project_access: str = "read"
    queue_access: str = "members"

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
    def max_body_bytes(self) -> int:
        return int(self.max_body_mib * 1024 * 1024)

    @property
    def max_artifact_bytes(self) -> int:
        return int(self.max_artifact_mib * 1024 * 1024)


assert {f.name for f in dataclasses.fields(ServerSettings)} == set(_BY_NAME), "settings drift"
assert all(getattr(ServerSettings(), s.name) == s.default for s in SETTINGS), "defaults drift"
