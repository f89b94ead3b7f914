"""Users of each role, with a key pair of their own, for the permission tests."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from tests.support.servers import ServerProcess


def admin_client(server: ServerProcess) -> httpx.Client:
    return httpx.Client(
        base_url=server.url + "/api/v1", auth=(server.access_key, server.secret_key), timeout=30
    )


def person(server: ServerProcess, role: str, *, agent: bool = False) -> httpx.Client:
    """A new user of ``role`` (made by the admin) and a Basic-auth client on their own key
    pair (``agent``: an agent key of theirs)."""
    name, password = f"{role}-{secrets.token_hex(4)}", secrets.token_urlsafe(12)
    with admin_client(server) as admin:
        body = {"name": name, "password": password}
        if role != "member":  # (a member is what an older server makes)
            body["role"] = role
        resp = admin.post("/users", json=body)
        assert resp.status_code == 201, resp.text
    return keyed(server, name, password, agent=agent)


def keyed(server: ServerProcess, name: str, password: str, *, agent: bool = False) -> httpx.Client:
    with httpx.Client(base_url=server.url + "/api/v1", timeout=30) as ui:
        login = ui.post("/auth/login", json={"username": name, "password": password})
        assert login.status_code == 200, login.text
        body: dict[str, Any] = {"label": "test", "agent": True} if agent else {"label": "test"}
        key = ui.post("/auth/keys", json=body, headers={"X-CSRF-Token": login.json()["csrf_token"]})
        assert key.status_code == 201, key.text
    pair = key.json()
    client = httpx.Client(
        base_url=server.url + "/api/v1", auth=(pair["access_key"], pair["secret_key"]), timeout=30
    )
    return client


def token_client(server: ServerProcess, pair: dict[str, str]) -> httpx.Client:
    return httpx.Client(
        base_url=server.url + "/api/v1", auth=(pair["access_key"], pair["secret_key"]), timeout=30
    )
