"""First start: admin user, API key pair, ``default`` queue, client config, login URL.

Runs once per database (when it has no users). A later start changes nothing and only
says where the UI is.
"""

from __future__ import annotations

import dataclasses
import secrets

from hydratrack.client.config import config_path, write_client_config
from hydratrack.server.store import queues as queues_repo
from hydratrack.server.store import users as users_repo
from hydratrack.server.store.db import Database

ADMIN = "admin"


@dataclasses.dataclass
class StartInfo:
    first_start: bool
    ui_url: str
    login_url: str | None = None
    config_written: str | None = None
    config_kept: str | None = None

    def lines(self) -> list[str]:
        out = []
        if self.first_start:
            out.append(
                "hydratrack: first start: created user 'admin', an API key pair and queue 'default'"
            )
            if self.config_written:
                out.append(f"hydratrack: wrote credentials to {self.config_written} (mode 0600)")
            if self.config_kept:
                out.append(
                    f"hydratrack: kept existing {self.config_kept}; the new key pair "
                    "is not in it (make one with `hydratrack keys create`)"
                )
            out.append(f"hydratrack: log in to the UI (single use, 24 h): {self.login_url}")
        out.append(f"hydratrack: UI at {self.ui_url}")
        return out


def first_start(db: Database, public_url: str) -> StartInfo:
    with db.write() as conn:
        if users_repo.count_users(conn) > 0:
            return StartInfo(False, public_url + "/")
        password = secrets.token_urlsafe(12)
        admin = users_repo.create_user(conn, ADMIN, password, role="admin")
        keys = users_repo.create_key(conn, admin["id"], "created at first start")
        queues_repo.ensure(conn, "default")
        token = users_repo.create_login_token(conn, admin["id"])
    info = StartInfo(True, public_url + "/", login_url=f"{public_url}/login?token={token}")
    path = config_path()
    if path.exists():
        info.config_kept = str(path)
    else:
        write_client_config(
            path,
            api_host=public_url,
            access_key=keys["access_key"],
            secret_key=keys["secret_key"],
            user=ADMIN,
            password=password,
        )
        info.config_written = str(path)
    return info
